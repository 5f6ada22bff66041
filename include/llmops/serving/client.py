"""Thin, typed wrapper over ``tritonclient.http.InferenceServerClient`` for the served LLM.

``tritonclient`` is imported lazily so importing this module stays cheap (DAG parsing).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from llmops.config import TritonConfig
from llmops.serving.repository import validate_model_name
from llmops.versions import validate_version

CONTROL_KEY_ENV = "LLMOPS_TRITON_CONTROL_KEY"
CONTROL_KEY_FILE_ENV = "LLMOPS_TRITON_CONTROL_KEY_FILE"


class TritonClientError(RuntimeError):
    """A Triton call failed; ``message`` carries Triton's own error text."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def control_key_from_env(environ: dict[str, str] | None = None) -> str | None:
    """The Triton control key: ``$LLMOPS_TRITON_CONTROL_KEY``, else the first line of the file named by
    ``$LLMOPS_TRITON_CONTROL_KEY_FILE`` (the local stack's 0600 key file, or a Docker secret); ``None`` when
    neither is set.

    Raises:
        TritonClientError: the key file is named but cannot be read.
    """
    import os

    env = os.environ if environ is None else environ
    key = env.get(CONTROL_KEY_ENV)
    if key:
        return key
    path = env.get(CONTROL_KEY_FILE_ENV)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().strip() or None
    except OSError as exc:
        raise TritonClientError(
            f"cannot read the Triton control key file ${CONTROL_KEY_FILE_ENV}={path}: {exc}"
        ) from exc


@dataclass(frozen=True)
class GenerationResult:
    """Outcome of one prompt: ``text`` on success, ``error`` (Triton's message) on failure.

    ``request_id`` is the id this client sent (logged as ``client_request_id``); ``server_request_id`` is the id the
    server gave the request (the log line's ``request_id``, the one feedback must name), ``None`` when the request
    failed or the served model does not return it.
    """

    prompt: str
    text: str | None
    error: str | None
    latency_ms: float
    request_id: str
    server_request_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _first_text(array: Any) -> str | None:
    """The first element of a BYTES output as text (``None`` when the output is missing)."""
    if array is None:
        return None
    raw = array.reshape(-1)[0]
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)


def _version_str(version: str | int) -> str:
    return "" if version in ("", None) else str(validate_version(version))


class TritonClient:
    """HTTP client for model control and generation.

    Args:
        url: ``host:port`` of Triton's HTTP endpoint (``TritonConfig.http_url``).
        timeout: network timeout in seconds for every call (a model load can take a while: size it accordingly).
        concurrency: parallel HTTP connections used by :meth:`generate` (one request per prompt).
        control_header: header that carries the control key when the server restricts its non-inference APIs
            (``--http-restricted-api=model-repository,statistics,...:<header>=<key>``).
        control_key: the key; defaults to :func:`control_key_from_env` (``""``: send none). Sent on every call of
            a restricted category (repository index, load, unload, statistics), never on health or inference.
    """

    def __init__(
        self,
        url: str,
        timeout: float = 60.0,
        concurrency: int = 8,
        control_header: str = "triton-model-control-key",
        control_key: str | None = None,
    ) -> None:
        import tritonclient.http as httpclient

        self.url = url.removeprefix("http://")
        self.timeout = timeout
        key = control_key if control_key is not None else control_key_from_env()
        self._control_headers = {control_header: key} if key else None
        self._http = httpclient
        self._client = httpclient.InferenceServerClient(
            self.url,
            concurrency=max(1, concurrency),
            connection_timeout=min(timeout, 30.0),
            network_timeout=timeout,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> TritonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from tritonclient.utils import InferenceServerException

        try:
            return fn(*args, **kwargs)
        except InferenceServerException as exc:
            raise TritonClientError(f"{what} failed: {exc.message()}", exc.status()) from exc
        except OSError as exc:  # connection refused / reset / timeout
            raise TritonClientError(f"{what} failed: cannot reach Triton at {self.url}: {exc}") from exc

    # Server and model control ---------------------------------------------------------------------------------

    def server_ready(self) -> bool:
        """Whether the server answers and is ready (False when unreachable).

        With ``--strict-readiness`` a server is not ready while a model is unavailable (failed to load, or
        unloading): check :meth:`server_live` before model control, which must work exactly then.
        """
        try:
            return bool(self._client.is_server_ready())
        except Exception:
            return False

    def server_live(self) -> bool:
        """Whether the server answers at all (False when unreachable); true even when a model is broken."""
        try:
            return bool(self._client.is_server_live())
        except Exception:
            return False

    def repository_index(self) -> list[dict[str, Any]]:
        """Models and versions Triton knows about, with their state (``READY``, ``UNAVAILABLE``...)."""
        return list(
            self._call("repository index", self._client.get_model_repository_index, headers=self._control_headers)
        )

    def load_model(self, name: str, config_json: str | None = None) -> None:
        """Load (or reload) ``name``; in explicit mode this reads its ``config.pbtxt`` unless ``config_json``
        overrides it.

        Raises:
            TritonClientError: the load failed (Triton's message, e.g. the model's initialize() traceback).
        """
        validate_model_name(name)
        self._call(
            f"load of model {name!r}", self._client.load_model, name, headers=self._control_headers, config=config_json
        )

    def unload_model(self, name: str) -> None:
        """Unload every version of ``name``."""
        validate_model_name(name)
        self._call(f"unload of model {name!r}", self._client.unload_model, name, headers=self._control_headers)

    def is_model_ready(self, name: str, version: str | int = "") -> bool:
        """Whether ``name`` (``version``, or the server's choice when empty) is ready (False when unreachable)."""
        validate_model_name(name)
        try:
            return bool(self._client.is_model_ready(name, _version_str(version)))
        except Exception:
            return False

    def wait_model_ready(self, name: str, version: str | int = "", timeout_s: float = 60.0) -> None:
        """Poll until the model version is ready.

        Raises:
            TritonClientError: not ready within ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            if self.is_model_ready(name, version):
                return
            if time.monotonic() >= deadline:
                raise TritonClientError(
                    f"model {name!r} version {version or '(default)'} not ready after {timeout_s:.0f} s"
                )
            time.sleep(0.25)

    def loading_versions(self, name: str) -> list[str]:
        """Versions of ``name`` that Triton is loading or unloading right now (``""`` when it names none)."""
        validate_model_name(name)
        return [
            str(entry.get("version", ""))
            for entry in self.repository_index()
            if entry.get("name") == name and entry.get("state") in ("LOADING", "UNLOADING")
        ]

    def wait_not_loading(self, name: str, timeout_s: float) -> bool:
        """Wait until Triton no longer loads or unloads ``name`` (a load the client gave up on goes on in the
        server, and Triton's folder must not change while it runs).

        Returns:
            True when nothing is loading; False when something still was at the deadline or the server could not
            be asked (the caller must then leave the model's folder alone).
        """
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if not self.loading_versions(name):
                    return True
            except TritonClientError:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.25)

    def ready_versions(self, name: str) -> list[int]:
        """Versions of ``name`` that the repository index reports as READY."""
        validate_model_name(name)
        out = []
        for entry in self.repository_index():
            if entry.get("name") == name and entry.get("state") == "READY" and str(entry.get("version", "")).isdigit():
                out.append(int(entry["version"]))
        return sorted(out)

    def model_statistics(self, name: str, version: str | int = "") -> dict[str, Any]:
        """Triton's statistics for one model version (``inference_count``, ``execution_count``, ...).

        ``execution_count`` < ``inference_count`` means the dynamic batcher grouped requests.
        """
        validate_model_name(name)
        stats = self._call(
            f"statistics of model {name!r}",
            self._client.get_inference_statistics,
            name,
            _version_str(version),
            headers=self._control_headers,
        )
        entries = stats.get("model_stats", [])
        if not entries:
            raise TritonClientError(f"no statistics for model {name!r} version {version or '(all)'}")
        entry = dict(entries[0])
        for key in ("inference_count", "execution_count"):
            entry[key] = int(entry.get(key, 0))
        return entry

    # Inference ------------------------------------------------------------------------------------------------

    def _inputs(self, prompt: str, max_new_tokens: int | None, temperature: float | None) -> list[Any]:
        import numpy as np

        http = self._http
        prompt_input = http.InferInput("prompt", [1, 1], "BYTES")
        prompt_input.set_data_from_numpy(np.array([[prompt.encode("utf-8")]], dtype=np.object_))
        inputs = [prompt_input]
        if max_new_tokens is not None:
            tokens = http.InferInput("max_new_tokens", [1, 1], "INT32")
            tokens.set_data_from_numpy(np.array([[max_new_tokens]], dtype=np.int32))
            inputs.append(tokens)
        if temperature is not None:
            temp = http.InferInput("temperature", [1, 1], "FP32")
            temp.set_data_from_numpy(np.array([[temperature]], dtype=np.float32))
            inputs.append(temp)
        return inputs

    def generate_results(
        self,
        name: str,
        prompts: list[str],
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        version: str | int = "",
    ) -> list[GenerationResult]:
        """Send one request per prompt, concurrently (Triton's dynamic batcher groups them), and collect each
        outcome without raising for per-prompt errors.

        Returns:
            One result per prompt, in order.
        """
        from tritonclient.utils import InferenceServerException

        validate_model_name(name)
        version_str = _version_str(version)
        outputs = [
            self._http.InferRequestedOutput("response", binary_data=True),
            self._http.InferRequestedOutput("request_id", binary_data=True),
        ]
        pending = []
        for prompt in prompts:
            request_id = str(uuid.uuid4())
            started = time.perf_counter()
            try:
                handle = self._client.async_infer(
                    name,
                    self._inputs(prompt, max_new_tokens, temperature),
                    model_version=version_str,
                    outputs=outputs,
                    request_id=request_id,
                )
            except InferenceServerException as exc:
                pending.append((prompt, request_id, started, None, exc.message()))
                continue
            pending.append((prompt, request_id, started, handle, None))

        results = []
        for prompt, request_id, started, handle, error in pending:
            text = server_id = None
            if handle is not None:
                try:
                    result = handle.get_result(block=True, timeout=self.timeout)
                    text = _first_text(result.as_numpy("response"))
                    server_id = _first_text(result.as_numpy("request_id"))
                    if text is None:
                        error = "the response has no 'response' output"
                except InferenceServerException as exc:
                    error = exc.message()
                except Exception as exc:  # timeouts and transport errors of the gevent pool
                    error = f"{type(exc).__name__}: {exc}"
            latency_ms = (time.perf_counter() - started) * 1000.0
            results.append(GenerationResult(prompt, text, error, latency_ms, request_id, server_id))
        return results

    def generate(
        self,
        name: str,
        prompts: list[str],
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        version: str = "",
    ) -> list[str]:
        """Generate one continuation per prompt.

        Args:
            name: model name.
            prompts: raw user prompts (the model applies the prompt template).
            max_new_tokens: tokens to generate (the model's default when ``None``).
            temperature: sampling temperature; ``None`` or ``<= 0`` means greedy.
            version: model version to address (``""``: the served one).

        Returns:
            The generated texts, in prompt order.

        Raises:
            TritonClientError: any prompt failed; the message lists Triton's error for each failed prompt.
        """
        results = self.generate_results(name, prompts, max_new_tokens, temperature, version)
        failed = [(i, r.error) for i, r in enumerate(results) if r.error is not None]
        if failed:
            details = "; ".join(f"prompt {i}: {err}" for i, err in failed)
            raise TritonClientError(f"generation with model {name!r} failed for {len(failed)} prompt(s): {details}")
        return [r.text or "" for r in results]


def client_for(cfg: TritonConfig, timeout: float | None = None) -> TritonClient:
    """A client of the configured server (control key header included when the environment names the key).

    Args:
        cfg: Triton settings (address, readiness timeout, control header).
        timeout: network timeout; defaults to ``cfg.ready_timeout_s`` (a load can take that long).
    """
    return TritonClient(
        cfg.http_url,
        timeout=cfg.ready_timeout_s if timeout is None else timeout,
        control_header=cfg.control_header,
    )

"""The project's HTTP app, mounted in the Airflow api-server by the ``llmops`` plugin (``plugins/llmops_plugin.py``).

Routes, under ``/llmops`` once mounted:

* ``POST /feedback``: one feedback record from an application (``Authorization: Bearer <token>``), checked, scrubbed
  and appended by :class:`llmops.monitoring.capture.FeedbackCapture`; answers ``201`` with what was replaced, or a
  4xx/503 JSON ``{"detail": "<what is wrong>"}``.
* ``GET /feedback/health``: whether capture is configured (no token in the answer).

FastAPI resolves the routes' annotations, so it is imported at the top (only the api-server and tests import this
module). The configuration is read on the first request (``$LLMOPS_CONFIG``, ``$LLMOPS_HOME``), so loading the plugin in
every Airflow process costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.monitoring.capture import FeedbackCapture

log = logging.getLogger(__name__)


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def create_app(
    config: Callable[[], LLMOpsConfig] | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The FastAPI app.

    Args:
        config: returns the configuration (default: :func:`llmops.config.load_config`), called once.
        environ: where the feedback tokens are read (default: the process environment).
        clock: the receive time of a record (default: the current UTC time).
    """
    app = FastAPI(title="LLMOps", description="Feedback capture for the served model.")
    state: dict[str, FeedbackCapture] = {}

    def _refused(exc: Any) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        # The 404's message names the id: not logged (an erasure does not rewrite the api-server's log).
        log.warning("feedback refused (%d): %s", exc.status, "unknown request id" if exc.status == 404 else exc.message)
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)

    def capture() -> FeedbackCapture:
        if "capture" not in state:
            from llmops.config import load_config
            from llmops.monitoring.capture import FeedbackCapture

            state["capture"] = FeedbackCapture((config or load_config)(), environ)
        return state["capture"]

    @app.post("/feedback", status_code=201)
    async def post_feedback(request: Request) -> Any:
        from starlette.concurrency import run_in_threadpool

        from llmops.monitoring.capture import CaptureError, check_token

        cap = await run_in_threadpool(capture)
        token = _bearer(request.headers.get("authorization"))
        try:
            check_token(token, cap.tokens)  # before the body is read: a stranger's body is never read
        except CaptureError as exc:
            return _refused(exc)
        limit = cap.cfg.monitoring.feedback_max_body_bytes
        try:
            declared = int(request.headers.get("content-length") or 0)
        except ValueError:
            return JSONResponse({"detail": "Content-Length is not a number"}, status_code=400)
        if declared > limit:
            return JSONResponse({"detail": f"body of {declared} bytes is over the limit of {limit} bytes"}, 413)
        body = bytearray()
        async for chunk in request.stream():  # a body sent without a length is cut off at the limit, not buffered
            body += chunk
            if len(body) > limit:
                return JSONResponse({"detail": f"body is over the limit of {limit} bytes"}, status_code=413)
        received_at = clock() if clock is not None else datetime.now(UTC)
        try:
            accepted = await run_in_threadpool(cap.capture, bytes(body), token, received_at)
        except CaptureError as exc:
            return _refused(exc)
        return accepted.to_dict()

    @app.get("/feedback/health")
    async def feedback_health() -> Any:
        from starlette.concurrency import run_in_threadpool

        cap = await run_in_threadpool(capture)
        return {"configured": bool(cap.tokens)}  # nothing about the deployment to a caller without a token

    return app

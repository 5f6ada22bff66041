"""The project's HTTP app, mounted in the Airflow api-server by the ``llmops`` plugin (``plugins/llmops_plugin.py``).

Routes, under ``/llmops`` once mounted:

* ``POST /feedback``: one feedback record from an application (``Authorization: Bearer <token>``), checked, scrubbed
  and appended by :class:`llmops.monitoring.capture.FeedbackCapture`; answers ``201`` with what was replaced, or a
  4xx/503 JSON ``{"detail": "<what is wrong>"}``.
* ``GET /feedback/health``: whether capture is configured (no token in the answer).
* ``GET /ui/``: the LLMOps page (:mod:`llmops_airflow.ui`): champion and challenger, version history with verdict
  reasons, the audit timeline, plots per monitored interval, links. Behind Airflow's own authentication (the UI's
  session cookie or a bearer token, checked by Airflow's auth manager); a browser without a session is sent to
  Airflow's login page.
* ``GET /ui/reports/<path>``: a report file the pipeline wrote (Data Docs, Evidently reports), same authentication.
* ``GET /ui/run/<dag_id>/<run_id>``: the MLflow run of an Airflow run (the per-run link of the Airflow UI).
* ``GET /ui/task/<dag_id>/<run_id>/<task_id>``: the report a task instance wrote, else its run's MLflow run (the
  per-task link).
* ``GET /ui/static/plotly.min.js``: Plotly's JavaScript from the installed package (no CDN).

FastAPI resolves the routes' annotations, so it is imported at the top (only the api-server and tests import this
module). The configuration is read on the first request (``$LLMOPS_CONFIG``, ``$LLMOPS_HOME``), so loading the plugin in
every Airflow process costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.monitoring.capture import FeedbackCapture

log = logging.getLogger(__name__)


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def airflow_viewer(request: Request) -> Any:
    """The Airflow user of a request, authenticated by Airflow's auth manager as its own API does (a bearer token,
    else the UI's session cookie) and allowed to see the website.

    Raises:
        HTTPException: 401 without credentials or with an expired token, 403 with an invalid token or a user not
            allowed to see the website.
    """
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    token = _bearer(request.headers.get("authorization")) or request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    user = await resolve_user_from_token(token)
    if not get_auth_manager().is_authorized_view(access_view=AccessView.WEBSITE, user=user):
        raise HTTPException(status_code=403, detail="not allowed to see the Airflow website")
    return user


def _login_url(request: Request) -> str:
    from airflow.api_fastapi.app import get_auth_manager

    return str(get_auth_manager().get_url_login(next_url=str(request.url)))


def create_app(
    config: Callable[[], LLMOpsConfig] | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
    viewer: Callable[[Request], Awaitable[Any]] | None = None,
    login_url: Callable[[Request], str] | None = None,
) -> FastAPI:
    """The FastAPI app.

    Args:
        config: returns the configuration (default: :func:`llmops.config.load_config`), called once.
        environ: where the feedback tokens are read (default: the process environment).
        clock: the receive time of a record (default: the current UTC time).
        viewer: authenticates a UI request or raises ``HTTPException`` (default: :func:`airflow_viewer`).
        login_url: where a browser without a session is sent (default: the auth manager's login page).
    """
    app = FastAPI(title="LLMOps", description="The LLMOps page and feedback capture for the served model.")
    state: dict[str, Any] = {}

    def settings() -> LLMOpsConfig:
        if "cfg" not in state:
            from llmops.config import load_config

            state["cfg"] = (config or load_config)()
        return state["cfg"]

    def _refused(exc: Any) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        # The 404's message names the id: not logged (an erasure does not rewrite the api-server's log).
        log.warning("feedback refused (%d): %s", exc.status, "unknown request id" if exc.status == 404 else exc.message)
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)

    def capture() -> FeedbackCapture:
        if "capture" not in state:
            from llmops.monitoring.capture import FeedbackCapture

            state["capture"] = FeedbackCapture(settings(), environ)
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

    _add_ui(app, settings, viewer or airflow_viewer, login_url or _login_url)
    _add_task_route(app, settings, viewer or airflow_viewer)
    return app


def _add_ui(
    app: FastAPI,
    settings: Callable[[], LLMOpsConfig],
    viewer: Callable[[Request], Awaitable[Any]],
    login_url: Callable[[Request], str],
) -> None:
    """The LLMOps page's routes (see the module docstring)."""
    from starlette.concurrency import run_in_threadpool

    def run_links(cfg: LLMOpsConfig) -> Callable[[str], str | None]:
        from llmops.registry.tracking import run_link

        cache: dict[str, str | None] = {}

        def link(run_id: str) -> str | None:
            if run_id not in cache:
                try:
                    cache[run_id] = run_link(cfg, run_id)
                except Exception:  # a run deleted from MLflow: no link
                    cache[run_id] = None
            return cache[run_id]

        return link

    def page(cfg: LLMOpsConfig) -> str:
        from llmops.overview import gather
        from llmops_airflow.ui import default_links, render_page

        return render_page(gather(cfg), default_links(cfg), run_links(cfg))

    @app.get("/ui/", response_class=HTMLResponse)
    async def ui_page(request: Request) -> Response:
        try:
            await viewer(request)
        except HTTPException as exc:
            if exc.status_code == 401:  # no session: log in to Airflow first, then come back
                return RedirectResponse(login_url(request), status_code=303)
            raise
        cfg = await run_in_threadpool(settings)
        return HTMLResponse(await run_in_threadpool(page, cfg))

    @app.get("/ui", include_in_schema=False)
    async def ui_root() -> Response:
        return RedirectResponse("ui/", status_code=308)

    @app.get("/ui/static/plotly.min.js", include_in_schema=False)
    async def plotly_js() -> Response:
        import plotly

        path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/ui/reports/{relative:path}")
    async def report(relative: str, request: Request) -> Response:
        await viewer(request)
        cfg = await run_in_threadpool(settings)
        base = cfg.paths.reports_dir.resolve()
        path = (base / relative).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            raise HTTPException(status_code=404, detail=f"no report {relative!r} under the reports folder")
        return FileResponse(path)

    @app.get("/ui/run/{dag_id}/{run_id}")
    async def airflow_run(dag_id: str, run_id: str, request: Request) -> Response:
        await viewer(request)
        cfg = await run_in_threadpool(settings)
        found = await run_in_threadpool(_mlflow_runs_of, cfg, dag_id, run_id)
        links = run_links(cfg)
        urls = [(name, url) for name, rid in found if (url := await run_in_threadpool(links, rid))]
        if len(urls) == 1:
            return RedirectResponse(urls[0][1], status_code=307)
        from llmops_airflow.ui import run_list_page

        return HTMLResponse(run_list_page(dag_id, run_id, urls), status_code=200 if urls else 404)


def _add_task_route(
    app: FastAPI, settings: Callable[[], LLMOpsConfig], viewer: Callable[[Request], Awaitable[Any]]
) -> None:
    from starlette.concurrency import run_in_threadpool

    @app.get("/ui/task/{dag_id}/{run_id}/{task_id}")
    async def airflow_task(dag_id: str, run_id: str, task_id: str, request: Request) -> Response:
        """A task instance's report (Data Docs, drift report) when it wrote one; otherwise its run's MLflow run."""
        from llmops.overview import task_report

        await viewer(request)
        cfg = await run_in_threadpool(settings)
        found = await run_in_threadpool(task_report, cfg, run_id, task_id)
        if found is not None:
            return RedirectResponse(str(request.url_for("report", relative=found)), status_code=307)
        return RedirectResponse(str(request.url_for("airflow_run", dag_id=dag_id, run_id=run_id)), status_code=307)


def _mlflow_runs_of(cfg: LLMOpsConfig, dag_id: str, run_id: str) -> list[tuple[str, str]]:
    """``(run name, MLflow run id)`` of the MLflow runs an Airflow run logged (tags ``llmops.dag`` and
    ``llmops.run_key``), in every experiment of the tracking store."""
    from llmops.config.runtime import run_key
    from llmops.registry.tracking import RUN_KEY_TAG, client

    c = client(cfg)
    key = run_key(run_id).replace("'", "")
    experiments = [e.experiment_id for e in c.search_experiments()]
    if not experiments:
        return []
    runs = c.search_runs(experiments, filter_string=f"tags.`{RUN_KEY_TAG}` = '{key}'", max_results=50)
    return [
        (str(r.info.run_name or r.info.run_id), str(r.info.run_id))
        for r in runs
        if str((r.data.tags or {}).get("llmops.dag", dag_id)) == dag_id
    ]

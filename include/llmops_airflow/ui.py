"""The LLMOps page of the Airflow UI: the :class:`~llmops.overview.Overview` rendered as HTML with Plotly charts.

The page is served by the project's plugin app (``GET /llmops/ui/``, see :mod:`llmops_airflow.api`) behind Airflow's
own authentication, and shown inside the Airflow UI as the "LLMOps" navigation entry (an external view). Plotly's
JavaScript comes from the installed ``plotly`` package (``/llmops/ui/static/plotly.min.js``): nothing is fetched from
a CDN, so the page works offline.
"""

from __future__ import annotations

import html
import itertools
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.overview import IntervalPoint, Overview

# (title, [(figure, label)], the bound drawn, y-axis format)
PANELS: tuple[tuple[str, tuple[tuple[str, str], ...], str | None, str], ...] = (
    ("Drift share", (("drift_share", "interval"), ("window_drift_share", "rolling window")), "drift_share", ".0%"),
    (
        "Latency (ms)",
        (("latency_p50_ms", "p50"), ("latency_p95_ms", "p95"), ("latency_p99_ms", "p99")),
        "latency_p95_ms",
        ",.0f",
    ),
    (
        "Triton: time per request (ms)",
        (("triton.queue_ms_per_request", "queue"), ("triton.compute_ms_per_request", "compute")),
        None,
        ",.1f",
    ),
    ("Tokens/s (completion tokens per generation second)", (("tokens_per_s", "tokens/s"),), None, ",.0f"),
    (
        "Tokens per request",
        (("tokens_per_request", "prompt + completion"), ("completion_tokens_per_request", "completion")),
        None,
        ",.1f",
    ),
    ("Cost per 1k tokens", (("cost_per_1k_tokens", "all versions"),), None, ",.4f"),
    ("Thumbs-up share", (("thumbs_up_share", "thumbs up / rated"),), None, ".0%"),
    ("Server error rate", (("server_error_rate", "server errors"),), "server_error_rate", ".1%"),
)


@dataclass(frozen=True)
class Links:
    """Where the page links to: the MLflow UI, the Airflow UI (relative to the api-server root), Triton's metrics."""

    mlflow: str
    airflow: str
    triton_metrics: str
    reports: str  # the plugin's report route, relative to the page

    def model_version(self, model: str, version: str) -> str:
        """The MLflow UI page of a registered model version."""
        return f"{self.mlflow}/#/models/{urllib.parse.quote(model)}/versions/{urllib.parse.quote(version)}"

    def report(self, relative: str) -> str:
        """A report file under the reports folder, served by the plugin."""
        return f"{self.reports}/{urllib.parse.quote(relative)}"


def default_links(cfg: LLMOpsConfig, airflow_base: str = "../..") -> Links:
    """The links of the embedded stack (or of the configured MLflow server)."""
    uri = cfg.mlflow.tracking_uri or ""
    mlflow = uri if uri.startswith("http") else f"http://127.0.0.1:{cfg.mlflow.ui_port}"
    return Links(
        mlflow=mlflow.rstrip("/"),
        airflow=airflow_base.rstrip("/"),
        triton_metrics=f"http://{cfg.triton.host}:{cfg.triton.metrics_port}/metrics",
        reports="reports",
    )


def _series(points: Sequence[IntervalPoint], name: str) -> tuple[list[str], list[float]]:
    xs, ys = [], []
    for p in points:
        if name in p.metrics:
            xs.append(p.start)
            ys.append(p.metrics[name])
    return xs, ys


def champion_changes(points: Sequence[IntervalPoint]) -> list[tuple[str, str]]:
    """``(interval start, label)`` where the champion serving an interval differs from the one before."""
    out = []
    for before, after in itertools.pairwise(points):
        if after.champion_version != before.champion_version:
            out.append((after.start, f"v{before.champion_version} → v{after.champion_version}"))
    return out


def _x_range(points: Sequence[IntervalPoint]) -> list[str] | None:
    """One time axis for every interval plot (all monitored intervals, padded by half an hour), so the panels line up
    and a figure with a single interval does not zoom into milliseconds."""
    from datetime import datetime, timedelta

    starts = sorted(datetime.fromisoformat(p.start) for p in points if p.start)
    if not starts:
        return None
    pad = timedelta(minutes=30)
    return [(starts[0] - pad).isoformat(), (starts[-1] + pad).isoformat()]


def _figure(
    title: str, lines: Sequence[tuple[str, str]], bound: float | None, fmt: str, points: Sequence[IntervalPoint]
) -> Any | None:
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, label in lines:
        xs, ys = _series(points, name)
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=label))
    if not fig.data:
        return None
    if bound is not None:
        fig.add_hline(y=bound, line_dash="dash", line_color="#d62728", annotation_text=f"bound {bound:g}")
    for at, label in champion_changes(points):
        fig.add_vline(x=at, line_dash="dot", line_color="#555")
        fig.add_annotation(x=at, y=1, yref="paper", text=label, showarrow=False, yanchor="bottom")
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=260,
        margin={"l": 50, "r": 20, "t": 50, "b": 30},
        legend={"orientation": "h", "y": -0.3},
        yaxis={"tickformat": fmt},
        xaxis={"type": "date", "range": _x_range(points)},
        template="plotly_white",
    )
    return fig


def safety_figure(ov: Overview) -> Any | None:
    """The flag rate of every answer scorer per interval, each with its alert bound."""
    import plotly.graph_objects as go

    names = sorted({k for p in ov.intervals for k in p.metrics if k.startswith("safety_") and k.endswith("_rate")})
    fig = go.Figure()
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
    for i, name in enumerate(names):
        xs, ys = _series(ov.intervals, name)
        color = palette[i % len(palette)]
        label = name.removeprefix("safety_").removesuffix("_rate")
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=label, line={"color": color}))
        if name in ov.thresholds:
            fig.add_hline(y=ov.thresholds[name], line_dash="dash", line_color=color, opacity=0.6)
    if not fig.data:
        return None
    for at, label in champion_changes(ov.intervals):
        fig.add_vline(x=at, line_dash="dot", line_color="#555")
        fig.add_annotation(x=at, y=1, yref="paper", text=label, showarrow=False, yanchor="bottom")
    fig.update_layout(
        title={"text": "Safety: share of answers flagged (dashed: alert bounds)", "font": {"size": 14}},
        height=300,
        margin={"l": 50, "r": 20, "t": 50, "b": 30},
        legend={"orientation": "h", "y": -0.3},
        yaxis={"tickformat": ".0%"},
        xaxis={"type": "date", "range": _x_range(ov.intervals)},
        template="plotly_white",
    )
    return fig


def versions_figure(ov: Overview) -> Any | None:
    """Held-out loss of every registered version (and of the base model it was compared with), the champion
    marked: how quality moved from version to version."""
    import plotly.graph_objects as go

    rows = sorted((v for v in ov.versions if "eval_loss" in v.metrics), key=lambda v: int(v.version))
    if not rows:
        return None
    xs = [f"v{v.version}" + (" (champion)" if v.version == ov.champion else "") for v in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=xs, y=[v.metrics["eval_loss"] for v in rows], name="eval_loss",
                         marker_color=["#2a7d2a" if v.passed else "#b00020" for v in rows]))  # fmt: skip
    base = [v.metrics.get("base_eval_loss") for v in rows]
    if any(b is not None for b in base):
        fig.add_trace(go.Scatter(x=xs, y=base, mode="markers", name="base model", marker={"symbol": "line-ew-open",
                                 "size": 24, "line": {"width": 3}}))  # fmt: skip
    fig.update_layout(
        title={"text": "Held-out loss per version (green: gate passed)", "font": {"size": 14}},
        height=260,
        margin={"l": 50, "r": 20, "t": 50, "b": 30},
        legend={"orientation": "h", "y": -0.3},
        template="plotly_white",
    )
    return fig


def figures(ov: Overview) -> list[Any]:
    """The page's Plotly figures (panels without data are left out)."""
    out = [f for f in (versions_figure(ov),) if f is not None]
    for title, lines, bound_name, fmt in PANELS:
        bound = ov.thresholds.get(bound_name) if bound_name else None
        fig = _figure(title, lines, bound, fmt, ov.intervals)
        if fig is not None:
            out.append(fig)
    safety = safety_figure(ov)
    if safety is not None:
        out.insert(min(2, len(out)), safety)
    return out


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _a(href: str, text: str) -> str:
    return f'<a href="{_e(href)}" target="_blank" rel="noopener">{_e(text)}</a>'


def _verdicts_html(verdicts: dict[str, dict[str, Any]]) -> str:
    rows = []
    for gate, v in verdicts.items():
        passed = v.get("passed")
        state = "passed" if passed is True else "failed" if passed is False else "?"
        rows.append(f'<li><span class="{state}">{_e(gate)}: {state}</span> {_e(v.get("reason", ""))}</li>')
    return f"<ul class='verdicts'>{''.join(rows)}</ul>" if rows else "<em>no verdicts recorded</em>"


def render_page(ov: Overview, links: Links, run_link: Callable[[str], str | None] | None = None) -> str:
    """The whole page as HTML (every value from the stores escaped)."""
    import plotly.io as pio

    champion = ov.version(ov.champion)
    challenger = ov.version(ov.challenger)
    parts: list[str] = []
    # Champion and challenger.
    cards = []
    for role, v in (("Champion", champion), ("Challenger", challenger)):
        if v is None:
            cards.append(f'<div class="card" data-role="{role.lower()}"><h3>{role}</h3><em>none</em></div>')
            continue
        run = run_link(v.run_id) if (run_link and v.run_id) else None
        metrics = ", ".join(f"{k} {val:.4g}" for k, val in v.metrics.items() if k in ("eval_loss", "rougeL", "bleu"))
        cards.append(
            f'<div class="card" data-role="{role.lower()}"><h3>{role}: {_e(ov.model)} v{_e(v.version)}</h3>'
            f"<p>{_e(v.kind.replace('_', ' '))}, registered {_e(v.created)}; prompt {_e(v.prompt or '-')}</p>"
            f"<p>{_e(metrics)}</p>"
            f'<p>gate: <b class="{"passed" if v.passed else "failed"}">{_e(v.reason or "-")}</b></p>'
            f"<p>{_a(links.model_version(ov.model, v.version), 'MLflow model version')}"
            + (f" · {_a(run, 'MLflow run')}" if run else "")
            + "</p></div>"
        )
    serving = _e(ov.serving_prompt or "-")
    parts.append(f'<section id="champion"><div class="cards">{"".join(cards)}</div>'
                 f"<p>Serving prompt: <b>{serving}</b> · {_a(links.triton_metrics, 'Triton metrics')} · "
                 f"{_a(links.mlflow, 'MLflow')}</p></section>")  # fmt: skip
    # Plots.
    figs = figures(ov)
    if figs:
        config = {"displaylogo": False}
        divs = "".join(
            f'<div class="plot">{pio.to_html(f, full_html=False, include_plotlyjs=False, config=config)}</div>'
            for f in figs
        )
        parts.append(f'<section id="plots"><h2>Quality and production</h2><div class="plots">{divs}</div></section>')
    else:
        parts.append('<section id="plots"><h2>Production</h2><em>no monitored interval yet</em></section>')
    # Timeline from the audit record.
    chain = "holds" if ov.chain_holds else "BROKEN"
    rows = []
    for r in ov.timeline:
        change = str(r.get("change", ""))
        what = (
            (f"v{r.get('from_version')} → " if r.get("from_version") else "first champion → ")
            + f"v{r.get('to_version')}"
            if change in ("promotion", "rollback", "prompt_release")
            else _e(r.get("erasure_id", r.get("key", "")))
        )
        rows.append(
            f'<tr class="{_e(change)}"><td>{_e(r.get("seq"))}</td><td>{_e(r.get("at", ""))}</td><td>{_e(change)}</td>'
            f"<td>{_e(what)}</td><td>{_e(r.get('prompt_version', ''))}</td><td>{_e(r.get('reason', ''))}</td>"
            f"<td>{_e(r.get('triggered_by', ''))}</td></tr>"
        )
    table = (
        "<table><tr><th>#</th><th>at</th><th>change</th><th>versions</th><th>prompt</th><th>reason</th><th>by</th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else "<em>no change recorded yet</em>"
    )
    parts.append(
        f'<section id="timeline"><h2>Timeline (audit record)</h2>'
        f'<p class="{"passed" if ov.chain_holds else "failed"}">hash chain {chain}: {_e(ov.chain_reason)}</p>'
        f"{table}</section>"
    )
    # Version history with each verdict's reason.
    vrows = []
    for v in ov.versions:
        vrows.append(
            f"<tr><td>{_a(links.model_version(ov.model, v.version), 'v' + v.version)}</td>"
            f"<td>{_e(', '.join(v.aliases))}</td>"
            f"<td>{_e(v.created)}</td><td>{_e(v.kind)}</td><td>{_e(v.prompt)}</td>"
            f"<td>{_verdicts_html(v.verdicts)}</td></tr>"
        )
    parts.append(
        '<section id="versions"><h2>Versions</h2><table><tr><th>version</th><th>aliases</th><th>registered</th>'
        "<th>kind</th><th>prompt</th><th>verdicts</th></tr>" + "".join(vrows) + "</table></section>"
    )
    # Intervals and reports.
    irows = []
    for p in reversed(ov.intervals):
        reports = " ".join(
            _a(links.report(rel), name.removesuffix("_html"))
            for name, path in sorted(p.reports.items())
            if name.endswith("_html") and (rel := _relative_report(path, ov))
        )
        run = run_link(p.mlflow_run_id) if (run_link and p.mlflow_run_id) else None
        irows.append(
            f"<tr><td>{_e(p.key)}</td><td>v{_e(p.champion_version)}</td><td>{_e(', '.join(p.alerts) or 'none')}</td>"
            f"<td>{_e(p.drift_reason)}</td><td>{reports}{' ' + _a(run, 'MLflow run') if run else ''}</td></tr>"
        )
    docs = " ".join(_a(links.report(rel), rel.split("/")[1]) for rel in ov.reports.get("data_docs", []))
    drift = " ".join(_a(links.report(rel), rel) for rel in ov.reports.get("drift", []))
    parts.append(
        '<section id="intervals"><h2>Monitored intervals</h2><table><tr><th>interval</th><th>champion</th>'
        "<th>alerts</th><th>drift</th><th>reports</th></tr>" + "".join(irows) + "</table>"
        f"<h3>Data Docs (Great Expectations)</h3><p>{docs or '<em>none</em>'}</p>"
        f"<h3>Drift reports of training runs (Evidently)</h3><p>{drift or '<em>none</em>'}</p></section>"
    )
    if ov.problems:
        parts.append(
            '<section id="problems"><h2>Not readable</h2><ul>'
            + "".join(f"<li>{_e(p)}</li>" for p in ov.problems)
            + "</ul></section>"
        )
    return _PAGE.format(model=_e(ov.model), body="\n".join(parts))


def _relative_report(path: str, ov: Overview) -> str | None:
    try:
        return str(Path(path).resolve().relative_to(Path(ov.reports_dir).resolve())) if ov.reports_dir else None
    except ValueError:
        return None


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LLMOps: {model}</title>
<script src="static/plotly.min.js"></script>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1rem 2rem; color: #222; }}
h1 {{ font-size: 1.4rem; }} h2 {{ font-size: 1.15rem; margin-top: 2rem; }}
.cards {{ display: flex; gap: 1rem; flex-wrap: wrap; }}
.card {{ border: 1px solid #ccc; border-radius: 6px; padding: .5rem 1rem; min-width: 22rem; flex: 1; }}
.plots {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(30rem, 1fr)); gap: .5rem; }}
table {{ border-collapse: collapse; font-size: .85rem; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }}
.passed {{ color: #2a7d2a; }} .failed {{ color: #b00020; }}
ul.verdicts {{ margin: 0; padding-left: 1rem; }}
tr.rollback td {{ background: #fff4f4; }} tr.prompt_release td {{ background: #f4f8ff; }}
</style></head>
<body><h1>LLMOps: {model}</h1>
{body}
</body></html>
"""


def run_list_page(dag_id: str, run_id: str, runs: Sequence[tuple[str, str]]) -> str:
    """The MLflow runs of an Airflow run, when there is not exactly one to go to."""
    items = "".join(f"<li>{_a(url, name)}</li>" for name, url in runs)
    body = f"<ul>{items}</ul>" if runs else "<p>no MLflow run was logged by this Airflow run</p>"
    return _PAGE.format(model=_e(f"{dag_id} / {run_id}"), body=body)

"""Render the benchmark results into ``docs/benchmarks.md``.

Reads every ``bench/results/*.json`` (written by ``make bench-<name>``) and rewrites the part of the page between
``<!-- bench:begin -->`` and ``<!-- bench:end -->``: one section per benchmark. Each JSON file is walked as a tree:

- records that share their keys (``triton.batching.c1``, ``triton.batching.c8``, ...) become one table with a row
  per record and a column per key;
- every other figure goes to the benchmark's figure table (``dedup.speedup | 4.2``).

Short lists are written inline, long ones (loss curves) as their length. The page is written to a temporary file
next to it and moved into place, so a failed run leaves the old page.

Run: ``make bench-report`` (or ``python bench/report.py --results bench/results --docs docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
DOCS_PAGE = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
INLINE_LIST_MAX = 10  # longer lists of numbers (loss curves) are summarised as their length
CELL_MAX_CHARS = 100  # long strings (error output) are cut
MAX_DECIMALS = 6


class ReportError(Exception):
    """The results or the page cannot be used (bad JSON, missing markers)."""


@dataclass
class Record:
    """The scalar figures found at one place in a result tree."""

    path: str
    values: dict[str, Any] = field(default_factory=dict)


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def decimals_for(value: float) -> int:
    """Decimals that show a float to about three significant digits (none at 1000 and above)."""
    magnitude = abs(value)
    if not math.isfinite(value) or magnitude >= 1000 or value == 0:
        return 0
    if magnitude >= 1:
        return 2 if magnitude < 100 else 1
    return min(MAX_DECIMALS, 2 - math.floor(math.log10(magnitude)))


def format_value(value: Any, decimals: int | None = None) -> str:
    """One table cell: floats to ``decimals`` (default: by magnitude), ints grouped, booleans as yes/no."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 1000 else str(value)
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= 1e9:
            return f"{value:.3g}"  # nan, inf, FLOP/s
        return f"{value:,.{decimals_for(value) if decimals is None else decimals}f}"
    if isinstance(value, list):
        if not value:
            return "none"
        return ", ".join(f"{v:.3g}" if isinstance(v, float) and abs(v) < 1000 else format_value(v) for v in value)
    text = " ".join(str(value).split())
    if len(text) > CELL_MAX_CHARS:
        text = text[: CELL_MAX_CHARS - 1] + "…"
    return text.replace("|", "\\|")


def collect(node: Any, path: str = "") -> list[Record]:
    """The records of a result tree, in document order (a record per dict that holds scalars)."""
    records: list[Record] = []
    here = Record(path)
    records.append(here)

    def child(key: str) -> str:
        return f"{path}.{key}" if path else key

    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = [(f"[{i}]", v) for i, v in enumerate(node)]
    else:
        return records
    for key, value in items:
        name = f"{path}{key}" if key.startswith("[") else child(str(key))
        if is_scalar(value):
            here.values[str(key)] = value
        elif isinstance(value, list) and all(is_scalar(v) for v in value):
            here.values[str(key)] = value if len(value) <= INLINE_LIST_MAX else f"{len(value)} values"
        else:
            records.extend(collect(value, name))
    return [r for r in records if r.values]


@dataclass
class Table:
    columns: list[str]
    rows: list[Record]


def group(records: list[Record]) -> tuple[list[Record], list[Table]]:
    """Split records into loose figures and tables of records that share their keys.

    Records with the same keys form a table. A lone record whose keys are a subset of a table's columns (at least
    two keys and half the columns) joins that table; the rest are loose figures.
    """
    by_keys: dict[tuple[str, ...], list[Record]] = {}
    for record in records:
        by_keys.setdefault(tuple(sorted(record.values)), []).append(record)
    tables = [Table(list(members[0].values), members) for members in by_keys.values() if len(members) > 1]
    loose: list[Record] = []
    for members in by_keys.values():
        if len(members) > 1:
            continue
        record = members[0]
        keys = set(record.values)
        home = next(
            (t for t in tables if len(keys) >= 2 and keys <= set(t.columns) and len(keys) * 2 >= len(t.columns)),
            None,
        )
        if home is None:
            loose.append(record)
        else:
            home.rows.append(record)
    order = {id(r): i for i, r in enumerate(records)}
    for table in tables:
        table.rows.sort(key=lambda r: order[id(r)])
    return loose, tables


def _numeric(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def markdown_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table. The first column is the row label; in the others, the floats of a column share their
    decimals (enough for the smallest), and columns holding only numbers are right-aligned."""
    align = ["---"]
    decimals: list[int | None] = [None]
    for i in range(1, len(header)):
        column = [r[i] for r in rows]
        numeric = all(_numeric(v) for v in column) and any(v is not None for v in column)
        align.append("---:" if numeric else "---")
        floats = [v for v in column if isinstance(v, float) and math.isfinite(v)]
        decimals.append(max(map(decimals_for, floats)) if numeric and floats else None)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for row in rows:
        cells = [str(row[0]), *(format_value(v, decimals[i]) for i, v in enumerate(row) if i)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_benchmark(name: str, result: Any) -> list[str]:
    """The section of one benchmark: its figure table, then one table per group of records."""
    loose, tables = group(collect(result))
    lines = [f"### {name}", "", f"From `bench/results/{name}.json` (`make bench-{name}`).", ""]
    if loose:
        figures = [[f"`{_key(r.path, k)}`", v] for r in loose for k, v in r.values.items()]
        lines += markdown_table(["figure", "value"], figures)
        lines.append("")
    for table in tables:
        prefix = _common_prefix(table.rows)
        rows = [[_row_label(r.path, prefix), *(r.values.get(c) for c in table.columns)] for r in table.rows]
        lines += markdown_table([f"`{prefix}`" if prefix else "result", *table.columns], rows)
        lines.append("")
    return lines


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _common_prefix(rows: list[Record]) -> str:
    parts = [r.path.split(".") for r in rows]
    prefix: list[str] = []
    for segment in zip(*parts, strict=False):
        if len(set(segment)) != 1:
            break
        prefix.append(segment[0])
    if len(prefix) == min(len(p) for p in parts):
        prefix = prefix[:-1]  # keep at least one segment as the row label
    return ".".join(prefix)


def _row_label(path: str, prefix: str) -> str:
    if prefix and path.startswith(prefix + "."):
        path = path[len(prefix) + 1 :]
    return f"`{path or '(top)'}`"


def _shown(path: Path) -> str:
    """A path as the page shows it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def render(results_dir: Path) -> list[str]:
    """The generated part of the page for every result file in ``results_dir``."""
    files = sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []
    if not files:
        return [f"No results yet: run `make bench-<name>`, then `make bench-report` (reads `{_shown(results_dir)}/`)."]
    lines: list[str] = []
    for path in files:
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ReportError(f"{path}: not a readable JSON result ({exc})") from exc
        lines += render_benchmark(path.stem, result)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def splice(page: str, generated: list[str]) -> str:
    """The page with the text between the markers replaced."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        raise ReportError(f"the page needs the markers {BEGIN} and {END}, in that order")
    head, tail = page[: start + len(BEGIN)], page[end:]
    return head + "\n" + "\n".join(generated) + "\n" + tail


def write_page(docs: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then move it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{docs.name}.", suffix=".tmp", dir=docs.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, docs)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="folder of <name>.json results")
    parser.add_argument("--docs", type=Path, default=DOCS_PAGE, help="the Markdown page to update")
    args = parser.parse_args(argv)
    try:
        page = args.docs.read_text(encoding="utf-8")
        updated = splice(page, render(args.results))
    except (OSError, ReportError) as exc:
        print(f"bench report: {exc}", file=sys.stderr)
        return 2
    if updated != page:
        write_page(args.docs, updated)
    count = len(list(args.results.glob("*.json"))) if args.results.is_dir() else 0
    print(f"wrote {count} benchmark(s) into {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

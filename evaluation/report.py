"""``make report``: the evaluation and benchmark figures as one HTML page and a Markdown table.

Reads what earlier runs wrote, and nothing else:

* ``.newslake/eval/protocol2.json`` (``make eval-g1``): protocol 2 per model and hour;
* ``.newslake/eval/protocol1.json`` (``make eval-g1``, ``evaluation.protocol1``): the
  nightly batch's next-day evaluation per test day and model; until it exists the page
  says so;
* ``.newslake/bench/*.json``: the last line of each ``make bench-*`` (``ingest.json``,
  ``stream.json``, ``batch.json``, ``serve.json``, ``demo.json``); each is shown as it is;
* ``.newslake/eval/rec_performance.json``: the served lists' CTR from
  ``gold/rec_performance`` and the experiments' latest results, which
  ``python -m spark_jobs.rec_report`` (run by ``make report``) writes when the lake has
  them; until then the page says so.

Writes ``.newslake/report/index.html`` (plots inline, one self-contained file) and
``.newslake/report/summary.md`` (the table for the README). Uses matplotlib
(``pip install -e '.[report]'``).
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation.metrics import K

STATE = Path(".newslake")
BENCH_FILES = ("ingest.json", "stream.json", "batch.json", "serve.json", "demo.json")
VARIANTS = (
    ("online", "last_click"),
    ("strict", "last_click"),
    ("online", "every_position"),
    ("strict", "every_position"),
)
LABELS = {
    "newslake": "newslake article page (co-visitation 3 h + trending blend)",
    "covisited_then_trending": "co-visitation list, then trending",
    "trending": "trending (last 15 min)",
    "most_clicked_previous_hour": "most clicked, previous hour",
    "vsknn": "V-SkNN (k 100, sample 500)",
    "reader": "newslake reader's list (request time)",
    "nightly": "the nightly list as served before the reader's list",
}
ARRIVAL_LABELS = {
    "reader": "newslake reader's list (request time)",
    "trending": "trending (last 15 min), less the reader's reads",
    "nightly": "the nightly list as served before the reader's list",
}


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        return {"error": f"{path} is not one JSON object: {exc}"}


def _k(result: dict[str, Any]) -> int:
    """The length the metrics are at: ``protocol2.Config.k`` as recorded by the run."""
    return int(result.get("config", {}).get("k", K))


def _cell(result: dict[str, Any], mode: str, variant: str, model: str) -> str:
    s = result.get(mode, {}).get(variant, {}).get(model)
    k = _k(result)
    return f"{s[f'ndcg_at_{k}']:.4f} / {s[f'hr_at_{k}']:.4f}" if s else "-"


def summary_markdown(result: dict[str, Any]) -> str:
    """The protocol 2 table (test half), newslake first, then the baselines and the paper."""
    hours = result["hours"]
    lines = [
        f"Protocol 2 (session next click), G1 hourly files {hours['first']}-{hours['last']} "
        f"({hours['scored']} hours scored), test half, NDCG@{_k(result)} / HR@{_k(result)}:",
        "",
        "| Model | Online, last click | Strict, last click | Online, every position "
        "| Strict, every position | Coverage | Popularity bias |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for model in result["online"]["last_click"]:
        exposure = result["online"].get("exposure", {}).get(model, {})
        cells = [_cell(result, mode, variant, model) for mode, variant in VARIANTS]
        lines.append(
            f"| {LABELS.get(model, model)} | {' | '.join(cells)} | "
            f"{exposure.get('coverage', '-')} | {exposure.get('popularity_bias', '-')} |"
        )
    config = result.get("config", {})
    if config:
        lines.insert(
            1,
            f"(co-visitation window {config['covisit_window_ms'] / 3_600_000:g} h, related "
            f"refreshed every {config['covisit_refresh_ms'] / 1000:g} s, trending window "
            f"{config['trending_window_ms'] / 60_000:g} min, lists of "
            f"{config['list_length']}, trending weight "
            f"{config.get('blend', {}).get('trending_weight', '-')}"
            + (
                f", pairs 1/gap^{pairs['decay']:g}, x{pairs['backward']:g} read before the source)"
                if (pairs := config.get("pairs"))
                else ")"
            ),
        )
    for name, (ndcg, hr) in result.get("paper", {}).items():
        lines.append(f"| paper: {name} (hours 0-384, last click) | {ndcg} / {hr} | | | | | |")
    refresh_s = config.get("covisit_refresh_ms", 300_000) / 1000
    lines += [
        "",
        "Online: every click before the prediction, lists as fresh as the streaming job "
        f"publishes them (related every {refresh_s:g} s, trending every minute). Strict: only the "
        "sessions of earlier hours, windows ending at the hour's start. Coverage: distinct "
        "articles shown / distinct articles clicked next (online, last click); popularity "
        "bias: mean clicks of what is shown / of what is clicked next. V-SkNN is scored on "
        "last clicks only.",
    ]
    return "\n".join(lines) + "\n"


def arrival_markdown(result: dict[str, Any]) -> str:
    """The arrivals' table: a returning reader's first click of a session (online)."""
    arrived = result.get("arrival")
    if not arrived or "models" not in arrived:
        return ""
    k = _k(result)
    lines = [
        f"Arrivals: a returning reader's first click of a session, 30 min or more after their "
        f"last click, online, test half ({arrived['predictions']} predictions), NDCG@{k} / "
        f"HR@{k}; the reader's recent reads are left out of every list:",
        "",
        "| Model | Arrival |",
        "| --- | --- |",
    ]
    for model, s in arrived["models"].items():
        label = ARRIVAL_LABELS.get(model, model)
        lines.append(f"| {label} | {s[f'ndcg_at_{k}']:.4f} / {s[f'hr_at_{k}']:.4f} |")
    return "\n".join(lines) + "\n"


def _markdown_table_html(markdown: str) -> str:
    """The summary's table as HTML, its other lines as paragraphs."""
    out, rows = [], []
    for line in markdown.splitlines():
        if line.startswith("| ---"):
            continue
        if line.startswith("|"):
            rows.append([html.escape(c.strip()) for c in line.strip("|").split("|")])
        elif line:
            out.append(f"<p>{html.escape(line)}</p>")
    if rows:
        head = "".join(f"<th>{c}</th>" for c in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows[1:])
        out.insert(1, f"<table><tr>{head}</tr>{body}</table>")
    return "".join(out)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _img(data: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def hourly_plot(result: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(14, 8), sharex=True)
    for col, mode in enumerate(("online", "strict")):
        for model, s in result[mode]["last_click"].items():
            per_hour = {int(h): v for h, v in s["per_hour"].items()}
            hours = sorted(per_hour)
            for row in (0, 1):
                values = [per_hour[h][row] for h in hours]
                axes[row][col].plot(hours, values, lw=0.8, label=LABELS.get(model, model))
        axes[0][col].set_title(f"{mode}, last click, test half")
        axes[0][col].set_ylabel(f"NDCG@{_k(result)}")
        axes[1][col].set_ylabel(f"HR@{_k(result)}")
        axes[1][col].set_xlabel("hourly file")
    axes[0][0].legend(fontsize=8)
    return _png(fig)


def exposure_plot(result: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    exposure = result["online"].get("exposure", {})
    models = list(exposure)
    fig, axes = plt.subplots(1, 2, figsize=(14, 3.5))
    names = [LABELS.get(m, m) for m in models]
    axes[0].barh(names, [exposure[m]["coverage"] for m in models])
    axes[0].set_title("coverage: distinct articles shown / distinct articles clicked next")
    axes[1].barh(names, [exposure[m]["popularity_bias"] for m in models])
    axes[1].axvline(1.0, color="grey", lw=0.8)
    axes[1].set_title("popularity bias: clicks of shown / clicks of clicked next")
    axes[1].set_yticklabels([])
    return _png(fig)


P1_METRICS = {
    "ndcg": "NDCG",
    "hr": "HR",
    "precision": "Precision",
    "recall": "Recall",
    "map": "MAP",
}


def protocol1_markdown(runs: dict[str, Any]) -> str:
    """Protocol 1's means over the test days, one row per model."""
    k, days = runs["k"], sorted(runs["test_days"])
    lines = [
        f"Protocol 1 (next day per user, as the nightly batch evaluates), {len(days)} test days "
        f"({days[0] if days else '-'} to {days[-1] if days else '-'}), mean over days:",
        "",
        "| Model | " + " | ".join(f"{name}@{k}" for name in P1_METRICS.values()) + " | Coverage |",
        "| --- |" + " --- |" * (len(P1_METRICS) + 1),
    ]
    for model, figures in runs["mean"].items():
        cells = [f"{figures.get(f'{m}_at_{k}', 0):.4f}" for m in P1_METRICS]
        lines.append(
            f"| {P1_LABELS.get(model, model)} | {' | '.join(cells)} | "
            f"{figures.get('coverage', 0):.4f} |"
        )
    return "\n".join(lines) + "\n"


P1_LABELS = {
    "most_viewed": "most viewed (24 h)",
    "trending": "trending (3 h, half-life 30 min)",
    "covisitation": "co-visitation of the last reads",
    "als": "ALS (implicit library)",
    "blend": "blend (published list)",
}


def protocol1_section(eval_dir: Path) -> str:
    runs = _read(eval_dir / "protocol1.json")
    if not runs or "test_days" not in runs:
        return (
            "<h2>Protocol 1: nightly batch, next-day evaluation (placeholder)</h2>"
            "<p><b>Not available yet.</b> <code>make eval-g1</code> writes "
            "<code>.newslake/eval/protocol1.json</code>; this section plots it per day once "
            "it exists.</p>"
            + (f"<pre>{html.escape(json.dumps(runs, indent=1))}</pre>" if runs else "")
        )
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    k, days = runs["k"], sorted(runs["test_days"])
    models = list(runs["mean"])
    fig, axes = plt.subplots(1, 3, figsize=(16, 3.8))
    for model in models:
        for ax, metric in zip(axes, (f"ndcg_at_{k}", f"hr_at_{k}", "coverage"), strict=True):
            values = [runs["test_days"][d].get(model, {}).get(metric) for d in days]
            ax.plot([d[5:] for d in days], values, marker="o", label=P1_LABELS.get(model, model))
            ax.set_title(f"{metric}, per test day")
            ax.tick_params(axis="x", labelrotation=60)
    axes[0].legend(fontsize=8)
    skipped = runs.get("skipped_days") or {}
    return (
        "<h2>Protocol 1: nightly batch, next-day evaluation</h2>"
        + _markdown_table_html(protocol1_markdown(runs))
        + _img(_png(fig), "per day")
        + (f"<p>Days skipped: {html.escape(json.dumps(skipped))}</p>" if skipped else "")
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def experiments_markdown(rows: list[dict[str, Any]]) -> str:
    """Each experiment's latest result, one row per variant (the control first)."""
    lines = [
        "| Experiment | Days | Variant | Readers | Impressions | Clicks | CTR (95% interval) "
        "| Lift over control (95% interval) | p-value | Sample ratio p (mismatch?) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lift = (
            "control"
            if r["variant"] == r["control"]
            else (f"{_pct(r['lift'])} ({_pct(r['lift_low'])} to {_pct(r['lift_high'])})")
        )
        p_value = "-" if r["p_value"] is None else f"{r['p_value']:.3g}"
        srm = "-" if r["srm_p_value"] is None else f"{r['srm_p_value']:.3g}"
        lines.append(
            f"| {r['experiment']} | {r['first_day']} to {r['day']} | {r['variant']} | "
            f"{r['readers']} | {r['impressions']} | {r['clicks']} | {_pct(r['ctr'])} "
            f"({_pct(r['ctr_low'])} to {_pct(r['ctr_high'])}) | {lift} | {p_value} | "
            f"{srm} ({'MISMATCH' if r['srm'] else 'no'}) |"
        )
    return "\n".join(lines) + "\n"


def rec_performance_section(eval_dir: Path) -> str:
    """CTR by variant over days and by position, and the experiments' table."""
    figures = _read(eval_dir / "rec_performance.json")
    if not figures or "by_position" not in figures:
        return (
            "<h2>The served lists on the portals (CTR)</h2><p><b>Not available yet.</b> "
            "The nightly <code>rec_performance</code> stage writes "
            "<code>gold/rec_performance</code>; <code>make report</code> reads it while the "
            "local platform is up.</p>"
        )
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (by_day, by_position) = plt.subplots(1, 2, figsize=(14, 4))
    days = sorted({r["day"] for r in figures["by_variant_day"]})
    series: dict[str, list[tuple[str, float]]] = {}
    for r in figures["by_variant_day"]:
        series.setdefault(f"{r['experiment']}: {r['variant']}", []).append((r["day"], r["ctr"]))
    for label, points in series.items():
        x = [days.index(d) for d, _ in points]
        by_day.plot(x, [c for _, c in points], marker="o", label=label)
    by_day.set_title("CTR per experiment variant and day")
    by_day.set_xticks(range(len(days)), [d[5:] for d in days], rotation=30)
    routes: dict[str, list[tuple[int, float]]] = {}
    for r in figures["by_position"]:
        routes.setdefault(r["route"], []).append((r["position"], r["ctr"]))
    for route, ranked in routes.items():
        by_position.plot([p for p, _ in ranked], [c for _, c in ranked], marker=".", label=route)
    by_position.set_title("CTR by position in the list")
    by_position.set_xlabel("position")
    by_position.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in (by_day, by_position):
        ax.set_ylabel("CTR")
        ax.set_ylim(bottom=0)
        if ax.has_data():
            ax.legend(fontsize=8)
    table = figures.get("experiments") or []
    return (
        "<h2>The served lists on the portals (CTR)</h2>"
        + _img(_png(fig), "CTR by variant and by position")
        + (_markdown_table_html(experiments_markdown(table)) if table else "")
    )


def bench_section(bench_dir: Path) -> str:
    parts = ["<h2>Benchmarks</h2>"]
    found = sorted(bench_dir.glob("*.json")) if bench_dir.exists() else []
    if not found:
        parts.append(
            "<p>No benchmark results yet: each <code>make bench-*</code> writes its last line "
            f"to <code>.newslake/bench/</code> as {', '.join(BENCH_FILES)}.</p>"
        )
    for path in found:
        figures = _read(path) or {}
        rows = "".join(
            f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(json.dumps(v))}</td></tr>"
            for k, v in figures.items()
            if not isinstance(v, list | dict) or len(json.dumps(v)) < 200
        )
        parts.append(f"<h3>{html.escape(path.stem)}</h3><table>{rows}</table>")
    return "".join(parts)


def render(state: Path = STATE) -> tuple[str, str]:
    """(HTML page, Markdown summary) from what ``state`` holds."""
    eval_dir, bench_dir = state / "eval", state / "bench"
    result = _read(eval_dir / "protocol2.json")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>newslake evaluation</title>"
        "<style>body{font-family:sans-serif;max-width:1400px;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
        "img{max-width:100%}</style></head><body><h1>newslake: evaluation and benchmarks</h1>"
    ]
    markdown = ""
    if result and "online" in result:
        markdown = summary_markdown(result)
        parts.append("<h2>Protocol 2: session next click (G1)</h2>")
        parts.append(_markdown_table_html(markdown))
        arrivals = arrival_markdown(result)
        if arrivals:
            parts.append("<h3>Arrivals: a returning reader's first click</h3>")
            parts.append(_markdown_table_html(arrivals))
            markdown += "\n" + arrivals
        parts.append(_img(hourly_plot(result), "metrics per hour"))
        parts.append("<h3>Popularity bias and coverage (online, last click)</h3>")
        parts.append(_img(exposure_plot(result), "coverage and popularity bias"))
        parts.append(
            "<h3>Data issues (counted, never silent)</h3><pre>"
            + html.escape(json.dumps(result.get("data_issues", {}), indent=1))
            + "\nhours: "
            + html.escape(json.dumps(result.get("hours", {})))
            + "</pre>"
        )
    else:
        parts.append(
            "<h2>Protocol 2</h2><p>No results: run <code>make eval-g1</code> first "
            f"({html.escape(str(eval_dir / 'protocol2.json'))}).</p>"
        )
        markdown = "No protocol 2 results yet: run `make eval-g1`.\n"
    parts.append(protocol1_section(eval_dir))
    parts.append(rec_performance_section(eval_dir))
    runs = _read(eval_dir / "protocol1.json")
    if runs and "test_days" in runs:
        markdown += "\n" + protocol1_markdown(runs)
    measured = _read(eval_dir / "rec_performance.json") or {}
    if measured.get("experiments"):
        markdown += "\n" + experiments_markdown(measured["experiments"])
    parts.append(bench_section(bench_dir))
    parts.append("</body></html>")
    return "".join(parts), markdown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.report", description=__doc__)
    parser.add_argument("--state", type=Path, default=STATE, help="where results are (.newslake)")
    args = parser.parse_args(argv)
    try:
        page, markdown = render(args.state)
    except ImportError:
        print("error: matplotlib is missing: pip install -e '.[report]'", file=sys.stderr)
        return 1
    out = args.state / "report"
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text(page)
    (out / "summary.md").write_text(markdown)
    print(markdown, end="")
    print(json.dumps({"html": str(out / "index.html"), "summary": str(out / "summary.md")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

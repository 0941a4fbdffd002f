"""Choose the article page on the VALIDATION half of protocol 2 (never the test half).

``python -m evaluation.tune --mode online|strict`` scores, on the last clicks of the
validation sessions, a grid of

* co-visitation pair weights (``newslake.ranking.PairWeights``: how fast a pair's weight
  falls with the distance of its two reads, and how much a pair counts for the article
  read first when seen from the one read after it);
* how often the related lists are refreshed (online only; ``related_refresh_s``;
  ``--refresh-ms 1`` rebuilds them for every prediction, as a co-visitation index updated
  with every click would serve them);
* the blend: trending's weight, and whether trending articles join it or only reorder
  the co-visited ones (``newslake.ranking.ArticlePageParams``);
* the reader's session on the query side: the co-visitation lists of the articles read
  before the current one, each weighed ``decay ** steps back``;

and prints one JSON object last.

``python -m evaluation.tune --reader`` scores the reader's list instead
(``newslake.ranking.ReaderParams``: each source's weight, how many of the newest reads lend
their co-visitation lists and how fast older reads count less, and which nightly list is
the personal source) on two targets of the validation half: the last click of a session
(``--mode``) and, online, a returning reader's first click of a session (arrivals). Every
combination of the values given is tried; the rest come from settings.

``evaluation/README.md`` records the figures behind the chosen values.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from evaluation import data, protocol2, readers, targets
from evaluation.protocol2 import Context, Model, top_up
from evaluation.readers import PERSONAL
from evaluation.signals import Ranked
from newslake.ranking import READER, ArticlePageParams, PairWeights, blend
from newslake.settings import get_settings

PAIRS = {
    "1/gap both ways": PairWeights(decay=1.0, backward=1.0),
    "1/gap, backward 0.1": PairWeights(decay=1.0, backward=0.1),
    "1/gap^2, backward 0.1": PairWeights(decay=2.0, backward=0.1),
    "1/gap^2, backward 0.25": PairWeights(decay=2.0, backward=0.25),
}
REFRESH_MS = (300_000, 60_000)
WEIGHTS = (0.3, 0.5, 0.7)
HISTORY_DECAYS = (0.1, 0.25)
# The reader's grid: ReaderParams fields, and which nightly list is the personal source.
READER_GRID = (
    "covisited", "hot", "trending", "personal", "popular", "last_reads", "read_decay",
    "lend_minutes", "personal_list",
)  # fmt: skip
MINUTE = protocol2.MINUTE


def _merged(lists: Sequence[tuple[Ranked, float]]) -> Ranked:
    """Lists summed, each scaled so its best scores ``weight``."""
    scores: dict[int, float] = {}
    for items, weight in lists:
        best = max((s for _, s in items), default=0.0)
        for a, s in items if best > 0 else ():
            scores[a] = scores.get(a, 0.0) + weight * s / best
    return sorted(scores.items(), key=lambda kv: (-kv[1], str(kv[0])))


def _page(params: ArticlePageParams, k: int, decay: float = 0.0, depth: int = 1) -> Model:
    def model(prefix: Sequence[int], ctx: Context) -> list[int]:
        lists = [(ctx.covisited(prefix[-1 - j]), decay**j) for j in range(min(depth, len(prefix)))]
        covisited = lists[0][0] if depth == 1 else _merged(lists)
        trending = ctx.trending()
        ranked = blend(covisited, trending, leave_out=prefix, params=params)
        return top_up(top_up([a for a, _ in ranked], trending, k), ctx.popular(), k)

    return model


def grid(config: protocol2.Config) -> dict[str, Model]:
    k = config.k + config.list_length
    chosen: dict[str, Model] = {}
    for weight in WEIGHTS:
        for joins in (False, True):
            params = ArticlePageParams(trending_weight=weight, trending_joins=joins, limit=config.k)
            chosen[f"trending weight {weight}, {'joins' if joins else 'reorders'}"] = _page(
                params, k
            )
    for decay in HISTORY_DECAYS:
        params = ArticlePageParams(trending_weight=0.5, trending_joins=True, limit=config.k)
        chosen[f"trending weight 0.5, joins, session decay {decay}"] = _page(params, k, decay, 3)
    return chosen


def reader_grid(args: argparse.Namespace, k: int) -> dict[str, Model]:
    """The reader's list for every combination of the values in ``args``."""
    chosen: dict[str, Model] = {}
    for values in itertools.product(*(getattr(args, name) for name in READER_GRID)):
        given = dict(zip(READER_GRID, values, strict=True))
        personal = str(given.pop("personal_list"))
        lend_ms = int(float(given.pop("lend_minutes")) * MINUTE)
        params = replace(READER, **given)
        name = " ".join(f"{key}={value:g}" for key, value in given.items())
        name += f" lend_minutes={lend_ms / MINUTE:g} personal_list={personal}"
        chosen[name] = readers.reader_model(params, k, lend_ms=lend_ms, personal=personal)
    return chosen


def _figures(result: protocol2.SweepResult, *, last_only: bool) -> dict[str, list[float]]:
    k = result.k
    summary: dict[str, Any] = protocol2.summarise(result, last_only=last_only)
    return {name: [float(s[f"ndcg_at_{k}"]), float(s[f"hr_at_{k}"])] for name, s in summary.items()}


def _print(figures: dict[str, list[float]], title: str) -> None:
    print(title, file=sys.stderr)
    for name, (ndcg, hr) in sorted(figures.items(), key=lambda kv: -kv[1][0]):
        print(f"{ndcg:.4f} {hr:.4f}  {name}", file=sys.stderr)


def tune_reader(args: argparse.Namespace, sessions: data.Sessions, chosen: np.ndarray) -> Any:
    """The reader's grid on the validation half's last clicks (``args.mode``) and arrivals
    (online), beside the article page, trending and the nightly list as served."""
    config = protocol2.Config.from_settings(get_settings())
    engine = protocol2.Engine(sessions, config)
    queries = targets.make_queries(sessions, chosen, every_position=False)
    arrivals = targets.arrivals(sessions, chosen)
    asked = [(queries, args.mode), (arrivals, "online")]
    engine.nightly = readers.nightly_lists(engine, asked, with_als=not args.no_als)
    grid = reader_grid(args, config.k)
    depth = max(args.last_reads)
    baselines = {name: m for name, m in readers.models(config).items() if name != "reader"}
    page = {"newslake": protocol2.models(config)["newslake"]}  # needs an article being read
    last = engine.sweep(queries, args.mode, {**grid, **baselines, **page}, vsknn=False, reads=depth)
    at_last = _figures(last, last_only=True)
    _print(at_last, f"last click, {args.mode}")
    arrived = engine.sweep(
        arrivals, "online", {**grid, **baselines}, vsknn=False, reads=depth, leave_out_reads=True
    )
    at_arrival = _figures(arrived, last_only=False)
    _print(at_arrival, "arrivals, online")
    table = {name: at_last[name] + at_arrival.get(name, []) for name in at_last}
    return {
        "columns": [f"last click ({args.mode}) NDCG", "HR", "arrival (online) NDCG", "HR"],
        "predictions": {"last_click": len(queries), "arrivals": len(arrivals)},
        "seconds": round(last.seconds + arrived.seconds + engine.nightly.seconds),
        **dict(sorted(table.items(), key=lambda kv: -kv[1][0])),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.tune", description=__doc__)
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DIR)
    parser.add_argument("--first-hour", type=int, default=1)
    parser.add_argument("--last-hour", type=int, default=311)
    parser.add_argument("--mode", choices=["strict", "online"], required=True)
    parser.add_argument("--pairs", nargs="*", choices=list(PAIRS), default=list(PAIRS))
    parser.add_argument("--refresh-ms", nargs="*", type=int, default=list(REFRESH_MS))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--reader", action="store_true", help="tune the reader's list")
    parser.add_argument("--no-als", action="store_true", help="reader: no ALS fit (empty lists)")
    defaults = {
        **{name: getattr(READER, name) for name in READER_GRID[:-2]},
        "lend_minutes": protocol2.Config().lend_ms / MINUTE,
        "personal_list": PERSONAL,
    }
    for name, default in defaults.items():
        kind = str if name == "personal_list" else int if name == "last_reads" else float
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, nargs="+", type=kind, default=[default], help="reader grid")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sessions = data.load(args.data, last_hour=args.last_hour)
    base = protocol2.Config()
    labels = targets.split_sessions(sessions, base.seed)
    in_hours = (sessions.hour >= args.first_hour) & (sessions.hour <= args.last_hour)
    chosen = (labels == targets.VALIDATION) & in_hours
    if args.reader:
        return _write(args, {"reader": True, **tune_reader(args, sessions, chosen)})
    queries = targets.make_queries(sessions, chosen, every_position=False)
    table: dict[str, list[float]] = {}
    seconds = 0.0
    for pairs_name in args.pairs:
        engine = protocol2.Engine(sessions, replace(base, pairs=PAIRS[pairs_name]))
        for refresh in args.refresh_ms if args.mode == "online" else (base.covisit_refresh_ms,):
            engine.config = replace(engine.config, covisit_refresh_ms=refresh)
            result = engine.sweep(
                queries, args.mode, grid(engine.config), vsknn=False, related_depth=3
            )
            seconds += result.seconds
            summary: dict[str, Any] = protocol2.summarise(result, last_only=True)
            for name, s in summary.items():
                key = f"{pairs_name} | related every {refresh / 1000:g} s | {name}"
                table[key] = [float(s[f"ndcg_at_{base.k}"]), float(s[f"hr_at_{base.k}"])]
                print(f"{table[key][0]:.4f} {table[key][1]:.4f}  {key}", file=sys.stderr)
    return _write(
        args, {"seconds": round(seconds), **dict(sorted(table.items(), key=lambda kv: -kv[1][0]))}
    )


def _write(args: argparse.Namespace, figures: dict[str, Any]) -> int:
    """The figures with what they were scored on: to ``--out`` and as the last line."""
    out = {
        "mode": args.mode,
        "half": "validation",
        "hours": [args.first_hour, args.last_hour],
        **figures,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

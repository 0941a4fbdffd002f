"""Choose the article page's blend on the VALIDATION half of protocol 2 (never the test half).

``python -m evaluation.tune --last-hour 311`` scores a grid of trending windows and weights
(and, to see whether it would pay, the co-visitation list of the article read before the
current one) on the last clicks of the validation sessions, strict and online, and prints
one JSON object last. The chosen values become ``newslake.ranking.ArticlePageParams`` and
the trending window of ``evaluation.protocol2.Config``; ``evaluation/README.md`` records
the figures behind them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from evaluation import data, protocol2
from evaluation.protocol2 import MINUTE, Context, Model, top_up
from evaluation.signals import Ranked
from newslake.ranking import ArticlePageParams, blend

WINDOWS_MIN = (15, 30, 60)
WEIGHTS = (0.1, 0.2, 0.3, 0.5)
HISTORY_DECAYS = (0.25,)


def _merged(lists: Sequence[tuple[Ranked, float]]) -> Ranked:
    scores: dict[int, float] = {}
    for items, weight in lists:
        best = max((s for _, s in items), default=0.0)
        for a, s in items if best > 0 else ():
            scores[a] = scores.get(a, 0.0) + weight * s / best
    return sorted(scores.items(), key=lambda kv: (-kv[1], str(kv[0])))


def _covisited_only(k: int) -> Model:
    def model(prefix: Sequence[int], ctx: Context) -> list[int]:
        items = [a for a, _ in ctx.covisited(prefix[-1]) if a not in prefix]
        return top_up(items, ctx.popular(), k)

    return model


def grid(config: protocol2.Config) -> dict[str, Model]:
    k = config.k + config.list_length
    chosen: dict[str, Model] = {"co-visitation alone": _covisited_only(k)}
    for minutes in WINDOWS_MIN:
        for weight in WEIGHTS:
            params = ArticlePageParams(trending_weight=weight, limit=config.k)

            def model(
                prefix: Sequence[int],
                ctx: Context,
                params: ArticlePageParams = params,
                window: int = minutes * MINUTE,
            ) -> list[int]:
                ranked = blend(
                    ctx.covisited(prefix[-1]), ctx.trending(window), leave_out=prefix, params=params
                )
                return top_up([a for a, _ in ranked], ctx.popular(), k)

            chosen[f"trending {minutes} min, weight {weight}"] = model
    for decay in HISTORY_DECAYS:
        for weight in (0.2, 0.3):
            params = ArticlePageParams(trending_weight=weight, limit=config.k)

            def with_history(
                prefix: Sequence[int],
                ctx: Context,
                params: ArticlePageParams = params,
                decay: float = decay,
            ) -> list[int]:
                lists = [(ctx.covisited(prefix[-1]), 1.0)]
                if len(prefix) > 1:
                    lists.append((ctx.covisited(prefix[-2]), decay))
                ranked = blend(_merged(lists), ctx.trending(), leave_out=prefix, params=params)
                return top_up([a for a, _ in ranked], ctx.popular(), k)

            chosen[f"history decay {decay}, trending 15 min, weight {weight}"] = with_history
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.tune", description=__doc__)
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DIR)
    parser.add_argument("--first-hour", type=int, default=1)
    parser.add_argument("--last-hour", type=int, default=311)
    parser.add_argument("--mode", choices=["strict", "online"], required=True)
    parser.add_argument("--list-length", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    sessions = data.load(args.data, last_hour=args.last_hour)
    config = replace(protocol2.Config(), list_length=args.list_length)
    engine = protocol2.Engine(sessions, config)
    labels = protocol2.split_sessions(sessions, config.seed)
    chosen = (labels == protocol2.VALIDATION) & (sessions.hour >= args.first_hour)
    queries = protocol2.make_queries(sessions, chosen, every_position=False)
    result = engine.sweep(queries, args.mode, grid(config), vsknn=False, related_depth=2)
    summary = protocol2.summarise(result, last_only=True)
    table = {name: [float(s["ndcg_at_20"]), float(s["hr_at_20"])] for name, s in summary.items()}  # type: ignore[arg-type]
    for name, (ndcg, hr) in sorted(table.items(), key=lambda kv: -kv[1][0]):
        print(f"{ndcg:.4f} {hr:.4f}  {name}", file=sys.stderr)
    out = {"mode": args.mode, "half": "validation", "seconds": round(result.seconds), **table}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

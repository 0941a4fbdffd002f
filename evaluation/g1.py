"""``make eval-g1``: protocol 2 and protocol 1 on the G1 clicks.

``python -m evaluation.g1 --data DIR --first-hour 1 --last-hour 311`` runs

* protocol 2 (``evaluation.protocol2``) on the TEST half: strict and online, last click and
  every position, newslake's article page and the baselines; the reader's list and the
  nightly list as served on the last clicks (``evaluation.readers``); and the arrivals
  (a returning reader's first click of a session, online): the reader's list, trending and
  the nightly list as served. One process per variant; results in
  ``.newslake/eval/protocol2.json``;
* protocol 1 (``evaluation.protocol1``): the nightly batch's next-day evaluation for every
  whole day inside the hours; results in ``.newslake/eval/protocol1.json``.

Progress and tables go to stderr (the report reads the JSON files); the last stdout line is
one JSON object: ``protocol2.{online,strict}.{ndcg_at_20,hr_at_20}`` are newslake's article
page (20 is ``protocol2.Config.k``), ``protocol2.reader.{online,strict}`` the reader's list's,
``protocol2.models.<model>.<variant>`` every model's, ``arrival.<model>`` each arrival
model's, ``protocol1.mean.<model>`` each model's metrics averaged over the test days.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evaluation import data, protocol1, protocol2, readers, targets
from evaluation.protocol2 import Engine, Mode
from evaluation.targets import TEST, Queries
from newslake.errors import NewslakeError
from newslake.settings import Settings, get_settings

OUT = Path(".newslake") / "eval" / "protocol2.json"
OUT1 = Path(".newslake") / "eval" / "protocol1.json"

# Moreira et al., RecSys 2021 (Transformers4Rec), G1, all 385 hours: NDCG@20, HR@20.
PAPER = {
    "V-SkNN": (0.3511, 0.6601),
    "GRU4Rec (full retrain)": (0.2596, 0.5029),
    "XLNet (MLM) with side features": (0.3675, 0.6721),
}
# An independent implementation, hours 1-311, test half, last click.
REFERENCE = {
    "vsknn": (0.357, 0.671),
    "most_clicked_previous_hour": (0.311, 0.622),
    "covisitation 3 h with position decay + popularity 15 min (online)": (0.379, 0.699),
}

_ENGINE: Engine | None = None  # shared with the forked workers
ARRIVAL = "arrival"  # the third job: a returning reader's first click of a session (online)


def _variant(args: tuple[Mode | str, Queries, Queries, np.ndarray]) -> dict[str, Any]:
    mode, every, last, clicks = args
    assert _ENGINE is not None
    if mode == ARRIVAL:
        return _arrivals(last)
    assert mode in ("online", "strict")
    config = _ENGINE.config
    models = protocol2.models(config)
    vsknn = models.pop("vsknn")
    mine = {name: m for name, m in readers.models(config).items() if name != "trending"}
    cpu = time.process_time()
    fast = _ENGINE.sweep(every, mode, models, vsknn=False)
    slow = _ENGINE.sweep(last, mode, {"vsknn": vsknn}, vsknn=True)
    reader = _ENGINE.sweep(last, mode, mine, vsknn=False, reads=config.reader.last_reads)
    sweeps = (fast, slow, reader)
    out: dict[str, Any] = {
        "seconds": {
            "serving_and_popularity": round(fast.seconds, 1),
            "vsknn": round(slow.seconds, 1),
            "reader": round(reader.seconds, 1),
        },
        "cpu_seconds": round(time.process_time() - cpu, 1),
    }
    out["last_click"] = {
        k: v for r in sweeps for k, v in protocol2.summarise(r, last_only=True).items()
    }
    out["every_position"] = protocol2.summarise(fast, last_only=False)
    out["exposure"] = {k: v for r in sweeps for k, v in protocol2.exposure(r, clicks).items()}
    return out


def _arrivals(arrivals: Queries) -> dict[str, Any]:
    """The reader's list, trending and the nightly list as served, on the arrivals (online;
    the reader's recent reads left out of every list)."""
    assert _ENGINE is not None
    config = _ENGINE.config
    cpu = time.process_time()
    result = _ENGINE.sweep(
        arrivals,
        "online",
        readers.models(config),
        vsknn=False,
        reads=config.reader.last_reads,
        leave_out_reads=True,
    )
    return {
        "seconds": round(result.seconds, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "models": protocol2.summarise(result, last_only=False),
    }


def run_protocol2(
    sessions: data.Sessions, first_hour: int, last_hour: int, config: protocol2.Config
) -> dict[str, Any]:
    """Both variants on the test half of hours ``first_hour .. last_hour``."""
    global _ENGINE
    _ENGINE = Engine(sessions, config)
    labels = targets.split_sessions(sessions, config.seed)
    in_range = (sessions.hour >= first_hour) & (sessions.hour <= last_hour)
    chosen = (labels == TEST) & in_range
    every = targets.make_queries(sessions, chosen, every_position=True)
    last = targets.make_queries(sessions, chosen, every_position=False)
    arrivals = targets.arrivals(sessions, chosen)
    asked: list[tuple[Queries, Mode]] = [(last, "online"), (last, "strict"), (arrivals, "online")]
    _ENGINE.nightly = readers.nightly_lists(_ENGINE, asked)  # before the fork: both share it
    clicks = np.bincount(sessions.item[_in_hours(sessions, in_range)])
    jobs: list[tuple[Mode | str, Queries, Queries, np.ndarray]] = [
        ("online", every, last, clicks),
        ("strict", every, last, clicks),
        (ARRIVAL, every, arrivals, clicks),
    ]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        online, strict, arrived = pool.map(_variant, jobs, chunksize=1)
    present = set(np.unique(sessions.hour[in_range]).tolist())
    scored = set(np.unique(sessions.hour[last.session]).tolist())
    return {
        "online": online,
        "strict": strict,
        ARRIVAL: {**arrived, "predictions": len(arrivals)},
        "nightly": {
            "nights": len(_ENGINE.nightly.nights),
            "seconds": _ENGINE.nightly.seconds,
            "known_readers_share": {
                "last_click_online": readers.known_share(_ENGINE, last, "online"),
                ARRIVAL: readers.known_share(_ENGINE, arrivals, "online"),
            },
        },
        "hours": {
            "first": first_hour,
            "last": last_hour,
            "scored": len(scored),
            "skipped_empty": sorted(set(range(first_hour, last_hour + 1)) - present),
            "skipped_no_test_session": sorted(present - scored),
        },
        "predictions": {"last_click": len(last), "every_position": len(every)},
    }


def _in_hours(sessions: data.Sessions, chosen: np.ndarray) -> np.ndarray:
    return np.repeat(chosen, sessions.lengths)


def run_protocol1(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Protocol 1 on every click of the hours (the nightly batch does not cap sessions)."""
    sessions = data.load(args.data, last_hour=args.last_hour, cap=protocol1.UNCAPPED)
    result = protocol1.run(
        sessions, args.first_hour, args.last_hour, protocol1.Params.from_settings(settings)
    )
    result["data_issues"] = sessions.issues
    return result


def protocol1_table(result: dict[str, Any]) -> str:
    """Protocol 1's figures per test day and their mean (stderr)."""
    k = result["k"]
    lines = [
        f"protocol 1, next day per user, {len(result['test_days'])} test days, "
        f"NDCG@{k} / HR@{k} (skipped: {result['skipped_days'] or 'none'})",
        f"{'day':12} {'users':>6} " + " ".join(f"{m:>15}" for m in protocol1.MODELS),
    ]
    rows = [*result["test_days"].items(), ("mean", result["mean"])]
    for day, figures in rows:
        cells = []
        for m in protocol1.MODELS:
            f = figures.get(m, {})
            cells.append(
                f"{f[f'ndcg_at_{k}']:.4f}/{f[f'hr_at_{k}']:.4f}" if f"ndcg_at_{k}" in f else "-"
            )
        lines.append(
            f"{day:12} {figures.get('users', ''):>6} " + " ".join(f"{c:>15}" for c in cells)
        )
    return "\n".join(lines)


def headline(result: dict[str, Any]) -> dict[str, Any]:
    """The last line: newslake's figures per variant and every model's."""
    k = result["config"]["k"]
    metric_keys = (f"ndcg_at_{k}", f"hr_at_{k}")
    out: dict[str, Any] = {}
    for mode in ("online", "strict"):
        mine = result[mode]["last_click"]["newslake"]
        out[mode] = {key: mine[key] for key in metric_keys}
    models: dict[str, Any] = {}
    for mode in ("online", "strict"):
        for variant in ("last_click", "every_position"):
            for name, s in result[mode][variant].items():
                models.setdefault(name, {})[f"{mode}_{variant}"] = {
                    key: s[key] for key in metric_keys
                }
    out["models"] = models
    out["reader"] = {
        mode: {key: result[mode]["last_click"]["reader"][key] for key in metric_keys}
        for mode in ("online", "strict")
    }
    out["hours"] = result["hours"]
    out["data_issues"] = result["data_issues"]
    out["seconds"] = result["seconds"]
    return out


def arrival_headline(result: dict[str, Any]) -> dict[str, Any]:
    """The arrivals' figures per model, and how many there were."""
    k = result["config"]["k"]
    arrived = result[ARRIVAL]
    out: dict[str, Any] = {
        name: {key: s[key] for key in (f"ndcg_at_{k}", f"hr_at_{k}")}
        for name, s in arrived["models"].items()
    }
    out["predictions"] = arrived["predictions"]
    return out


def arrival_table(result: dict[str, Any]) -> str:
    """The arrivals' figures (stderr)."""
    k = result["config"]["k"]
    arrived = result[ARRIVAL]
    lines = [
        f"arrivals (a returning reader's first click of a session, 30 min or more after their "
        f"last), online, test half: {arrived['predictions']} predictions, NDCG@{k} / HR@{k}"
    ]
    for name, s in arrived["models"].items():
        lines.append(f"{name:32} {s[f'ndcg_at_{k}']:.4f}/{s[f'hr_at_{k}']:.4f}")
    nightly = result.get("nightly", {})
    lines.append(f"readers with a nightly list: {nightly.get('known_readers_share')}")
    return "\n".join(lines)


def table(result: dict[str, Any]) -> str:
    """The figures beside the paper's and the reference's (stderr)."""
    k = result["config"]["k"]
    lines = [
        f"protocol 2, test half, hours {result['hours']['first']}-{result['hours']['last']} "
        f"({result['hours']['scored']} scored), NDCG@{k} / HR@{k}",
        f"{'model':32} {'online last':>15} {'strict last':>15} {'online every':>15} "
        f"{'strict every':>15}",
    ]
    for name in result["online"]["last_click"]:
        cells = [
            result[mode][variant][name]
            for mode, variant in [
                ("online", "last_click"),
                ("strict", "last_click"),
                ("online", "every_position"),
                ("strict", "every_position"),
            ]
            if name in result[mode][variant]
        ]
        figures = " ".join(f"{c[f'ndcg_at_{k}']:.4f}/{c[f'hr_at_{k}']:.4f}" for c in cells)
        lines.append(f"{name:32} {figures}")
    lines.append("paper (G1, hours 0-384, all models a little lower on those hours):")
    lines += [f"  {name:40} {n:.4f}/{h:.4f}" for name, (n, h) in PAPER.items()]
    lines.append("independent implementation (hours 1-311, test, last click):")
    lines += [f"  {name:40} {n:.3f}/{h:.3f}" for name, (n, h) in REFERENCE.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.g1",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=data.DEFAULT_DIR, help="G1 data folder")
    parser.add_argument("--first-hour", type=int, default=1, help="first hour scored (1)")
    parser.add_argument("--last-hour", type=int, default=311, help="last hour scored (311)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"results JSON ({OUT})")
    parser.add_argument("--out1", type=Path, default=OUT1, help=f"protocol 1 JSON ({OUT1})")
    parser.add_argument("--no-protocol1", action="store_true", help="skip protocol 1")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if not 0 <= args.first_hour <= args.last_hour:
            raise NewslakeError("hours must satisfy 0 <= --first-hour <= --last-hour")
        sessions = data.load(args.data, last_hour=args.last_hour)
        if args.last_hour >= sessions.n_hours:
            raise NewslakeError(
                f"--last-hour {args.last_hour}: the data has hourly files 0..{sessions.n_hours - 1}"
            )
        settings = get_settings()
        config = protocol2.Config.from_settings(settings)
        result = run_protocol2(sessions, args.first_hour, args.last_hour, config)
        first = None if args.no_protocol1 else run_protocol1(args, settings)
    except (NewslakeError, ValueError) as exc:  # ValueError: e.g. no hour left to score
        print(f"error: {exc}", file=sys.stderr)
        return 1
    result["data_issues"] = sessions.issues
    result["seconds"] = round(time.monotonic() - started, 1)
    result["paper"] = {k: list(v) for k, v in PAPER.items()}
    result["reference"] = {k: list(v) for k, v in REFERENCE.items()}
    result["config"] = dataclasses.asdict(config)
    print(table(result), file=sys.stderr)
    print(arrival_table(result), file=sys.stderr)
    line: dict[str, Any] = {"protocol2": headline(result), ARRIVAL: arrival_headline(result)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    if first is not None:
        print(protocol1_table(first), file=sys.stderr)
        args.out1.parent.mkdir(parents=True, exist_ok=True)
        args.out1.write_text(json.dumps(first, indent=1))
        line["protocol1"] = {
            "k": first["k"],
            "test_days": len(first["test_days"]),
            "skipped_days": first["skipped_days"],
            "mean": first["mean"],
            "seconds": first["seconds"],
        }
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())

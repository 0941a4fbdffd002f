"""A stand-in for ``spark_jobs/nightly.py --stage ...`` that injects faults without Spark.

It speaks the stage contract (JSON on the last stdout line, exit codes) and does what
``NEWSLAKE_FAKE_NIGHTLY`` says, e.g. ``{"check": "missing", "train": {"ge": "fail",
"gshow": "reject"}, "export": {"globoplay": "fail"}}``; every other stage and portal succeeds
and is promoted. Each call's arguments are appended as one JSON line to
``NEWSLAKE_FAKE_NIGHTLY_CALLS``. Standard library only: any interpreter runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--stage", required=True)
    p.add_argument("--portal")
    p.add_argument("--as-of")
    p.add_argument("--version")
    p.add_argument("--result-uri")
    return p.parse_args(argv)


def _train(args: argparse.Namespace, behaviour: str | None) -> tuple[int, dict[str, object]]:
    metrics = {"ndcg@10": 0.31, "baseline_ndcg@10": 0.22, "users": 40}
    out: dict[str, object] = {"portal": args.portal, "version": args.version, "metrics": metrics}
    if behaviour == "fail":
        return 1, out | {"status": "failed", "reason": "injected: ALS ran out of memory"}
    if behaviour == "reject":
        gate = {"decision": "reject", "reason": "injected: ndcg@10 0.20 below in service 0.30"}
        return 0, out | {"status": "rejected", "reason": gate["reason"], "gate": gate}
    gate = {"decision": "promote", "reason": "ndcg@10 0.31 beats baseline 0.22"}
    return 0, out | {"status": "candidate", "reason": "", "gate": gate}


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    plan = json.loads(os.environ.get("NEWSLAKE_FAKE_NIGHTLY", "{}"))
    if calls := os.environ.get("NEWSLAKE_FAKE_NIGHTLY_CALLS"):
        with open(calls, "a") as f:
            f.write(json.dumps(vars(args)) + "\n")
    print(f"fake nightly: stage {args.stage} {args.portal or ''}", file=sys.stderr)
    behaviour = plan.get(args.stage)
    if isinstance(behaviour, dict):
        behaviour = behaviour.get(args.portal)
    code, out = 0, {"stage": args.stage}
    if args.stage == "check":
        code = 3 if behaviour == "missing" else 0
        visits = 0 if code else 1200
        out = {"ok": code == 0, "visits": visits, "per_portal": {}}
    elif args.stage == "train":
        code, out = _train(args, behaviour)
    elif behaviour == "fail":
        print(f"injected: {args.stage} failed halfway", file=sys.stderr)
        return 1
    print("some log line on stdout before the result")
    print(json.dumps(out))
    return code


if __name__ == "__main__":
    sys.exit(main())

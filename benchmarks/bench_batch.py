"""``make bench-batch``: the nightly batch on the G1 clicks, timed, with its model figures.

1. The moto server (``NEWSLAKE_MOTO_PORT``) reset, and a lake of the bench's own where
   the platform keeps its lake by default, on local disk, under ``state_dir/bench-batch``
   (:mod:`benchmarks.lake`; ``NEWSLAKE_LAKE_URI`` wins), emptied; portal ``g1`` only.
2. The G1 clicks written straight into ``silver/pageviews`` (``spark_jobs.g1_silver``).
3. The weekly search (``--grid quick`` by default; ``--grid none`` skips it), recorded
   in ``gold.hyperparams`` as the nightly run expects.
4. The nightly run exactly as production starts it: ``python -m spark_jobs.submit
   spark_jobs/nightly.py -- --as-of ...`` (all stages: catch-up, interactions, train with
   the next-day evaluation and gate, export to DynamoDB, switch); its wall time includes
   the JVM start.
5. ALS training time, MLlib against the ``implicit`` library (``pip install
   '.[bench]'``), on the same matrix (the run's ``gold.interactions``) and parameters.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.lake import own_lake
from ingestion import g1, session_daemon
from newslake.local import provision, server
from newslake.settings import Settings, get_settings

if TYPE_CHECKING:
    from spark_jobs.als import AlsParams

REPO = Path(__file__).resolve().parent.parent
AS_OF = "2017-10-14T00:00:00+00:00"  # test day: 2017-10-13, the last whole day of the copy


def _log(msg: str) -> None:
    print(f"[bench-batch] {msg}", file=sys.stderr, flush=True)


def _settings() -> Settings:
    """The settings for portal g1 and the bench's own lake."""
    base = get_settings()
    return base.model_copy(update={"portals": ("g1",), "lake_uri": own_lake(base, "bench-batch")})


def _nightly(settings: Settings, as_of: str, version: str) -> tuple[float, dict[str, Any]]:
    env = dict(
        os.environ,
        NEWSLAKE_MOTO_PORT=str(settings.moto_port),
        NEWSLAKE_STATE_DIR=str(settings.state_dir),
        NEWSLAKE_LAKE_URI=settings.lake_root,
        NEWSLAKE_PORTALS="g1",
        PYTHONPATH=str(REPO),
    )
    cmd = [sys.executable, "-m", "spark_jobs.submit", "spark_jobs/nightly.py", "--"]
    cmd += ["--as-of", as_of, "--version", version]
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    (settings.state_dir / "nightly.log").write_text(proc.stderr)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"error: the nightly run printed no JSON (exit {proc.returncode})")
    return wall, json.loads(lines[-1])


def _als_versus_implicit(
    spark: Any, settings: Settings, version: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Fit MLlib ALS and implicit's ALS on the same user x article matrix; seconds each."""
    from pyspark.sql import functions as F

    from spark_jobs import als, id_map
    from spark_jobs import columns as C
    from spark_jobs.tables import GoldPaths

    paths = GoldPaths.of(settings)
    inter = (
        spark.read.format("delta")
        .load(paths.interactions)
        .where((F.col(C.VERSION) == version) & (F.col(C.PORTAL) == "g1"))
        .select(C.USER_ID, C.ARTICLE_ID, C.STRENGTH)
        .cache()
    )
    users = id_map.assign(
        spark, inter.select(F.col(C.USER_ID).alias(C.ENTITY_ID)), paths.id_map,
        portal="g1", kind=id_map.USER,
    ).cache()  # fmt: skip
    items = id_map.assign(
        spark, inter.select(F.col(C.ARTICLE_ID).alias(C.ENTITY_ID)), paths.id_map,
        portal="g1", kind=id_map.ARTICLE,
    ).cache()  # fmt: skip
    p = als.AlsParams(**{k: params[k] for k in ("rank", "max_iter", "reg_param", "alpha", "seed")})
    n = inter.count()
    users.count(), items.count()
    started = time.monotonic()
    als.train(inter, users, items, p)
    spark_s = time.monotonic() - started
    matrix_shape, implicit_s = _fit_implicit(inter, users, items, p)
    inter.unpersist()
    return {
        "ratings": n,
        "users": matrix_shape[0],
        "articles": matrix_shape[1],
        "params": p.as_dict(),
        "mllib_s": round(spark_s, 2),
        "implicit_s": round(implicit_s, 2),
        "mllib_over_implicit": round(spark_s / implicit_s, 2) if implicit_s else None,
    }


def _fit_implicit(
    inter: Any, users: Any, items: Any, p: AlsParams
) -> tuple[tuple[int, int], float]:
    """implicit's ALS on the interactions as a sparse matrix indexed like MLlib's: the
    matrix's (users, articles) and the seconds the fit took."""
    import numpy as np
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    from spark_jobs import columns as C

    pdf = (
        inter.join(users.withColumnRenamed(C.ENTITY_ID, C.USER_ID), C.USER_ID)
        .withColumnRenamed(C.IDX, "u")
        .join(items.withColumnRenamed(C.ENTITY_ID, C.ARTICLE_ID), C.ARTICLE_ID)
        .withColumnRenamed(C.IDX, "i")
        .select("u", "i", C.STRENGTH)
        .toPandas()
    )
    matrix = sp.csr_matrix(
        (pdf[C.STRENGTH].to_numpy(np.float32), (pdf["u"].to_numpy(), pdf["i"].to_numpy()))
    )
    model = AlternatingLeastSquares(
        factors=p.rank,
        regularization=p.reg_param,
        alpha=p.alpha,
        iterations=p.max_iter,
        random_state=p.seed,
        calculate_training_loss=False,
    )
    with threadpool_limits(1, "blas"):  # implicit parallelises itself over users
        started = time.monotonic()
        model.fit(matrix, show_progress=False)
        seconds = time.monotonic() - started
    return (int(matrix.shape[0]), int(matrix.shape[1])), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_batch", description=__doc__)
    parser.add_argument("--as-of", default=AS_OF)
    parser.add_argument("--grid", choices=["quick", "full", "none"], default="quick")
    parser.add_argument("--data", type=Path, default=g1.DEFAULT_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = _settings()
    as_of = datetime.fromisoformat(args.as_of).astimezone(UTC)
    version = as_of.strftime("v%Y%m%dT%H%M%SZ")
    load_avg = os.getloadavg()
    _log(f"moto on port {settings.moto_port}, lake {settings.lake_root}")
    server.start(settings)
    session_daemon.stop(settings)  # it would read the new streams from its old positions
    server.reset(settings)
    provision.provision(settings)
    session_daemon.start(settings)
    if settings.lake_root.startswith("file://"):
        shutil.rmtree(settings.lake_root.removeprefix("file://"), ignore_errors=True)

    from spark_jobs import g1_silver
    from spark_jobs import search as searching
    from spark_jobs.session import get_spark

    spark = get_spark(settings, app_name="newslake-bench-batch")
    timings: dict[str, float] = {}
    started = time.monotonic()
    clicks = g1_silver.load(spark, settings, args.data)
    timings["load_g1_silver"] = round(time.monotonic() - started, 2)
    _log(f"{clicks} G1 visits in silver in {timings['load_g1_silver']}s")
    chosen: dict[str, Any] = {}
    if args.grid != "none":
        started = time.monotonic()
        chosen = searching.search_portal(spark, settings, "g1", as_of, quick=args.grid == "quick")
        timings["search"] = round(time.monotonic() - started, 2)
        _log(f"search: {chosen} in {timings['search']}s")

    _log("nightly run (spark-submit) ...")
    wall, report = _nightly(settings, as_of.isoformat(), version)
    g1_report = report.get("portals", {}).get("g1", {})
    _log(f"nightly run: {wall:.1f}s, g1 {g1_report.get('status')}: {g1_report.get('reason')}")
    params = json.loads(
        spark.read.format("delta")
        .load(settings.table_path("gold", "model_runs"))
        .where(f"portal = 'g1' AND version = '{version}'")
        .select("params")
        .first()[0]  # type: ignore[index]
    )["als"]
    versus = _als_versus_implicit(spark, settings, version, params)
    keys = ("ndcg_at_10", "hr_at_10", "coverage", "users")
    out = {
        "clicks": clicks,
        "as_of": as_of.isoformat(),
        "nightly_wall_s": round(wall, 2),
        "stages_s": report.get("stages_s", {}) | {"nightly_total_wall": round(wall, 2)},
        "portal_stages_s": g1_report.get("stage_s", {}),
        "before_nightly_s": timings,
        "status": g1_report.get("status"),
        "gate": g1_report.get("gate"),
        "models": {
            m: {k: v[k] for k in keys if k in v} for m, v in g1_report.get("metrics", {}).items()
        },
        "search": chosen,
        "als_training": versus,
        "load_avg_at_start": [round(x, 2) for x in load_avg],
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

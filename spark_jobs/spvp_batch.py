"""Spark job: map a dataset's review sentences to its category's specific viewpoints.

    spark-submit --py-files trend.zip --jars mariadb-java-client.jar spark_jobs/spvp_batch.py \
        --dataset-id 7 [--rerun] [--config config.json | --config '{"backend": "openai", ...}'] \
        [--db gb_console=name ...]

MySQL server and credentials come from MYSQL_URL in the environment (as for every
job), never from the command line. TP_TRY_NUMBER > 1 (an Airflow retry) resumes a
dataset the previous attempt marked failed. No Airflow imports here.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from trend.spark import TRY_NUMBER_ENV
from trend.spvp.progress import Databases, SpvpFailure
from trend.spvp.settings import SpvpConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="SPVP batch mapping for one dataset")
    parser.add_argument("--dataset-id", type=int, required=True)
    parser.add_argument("--rerun", action="store_true", help="map again even if completed/failed")
    parser.add_argument("--config", default="", help="SpvpConfig as a JSON file path or inline JSON")
    parser.add_argument(
        "--db",
        action="append",
        default=[],
        metavar="LOGICAL=PHYSICAL",
        help="physical database name for a logical one (default: TP_DB_PREFIX + name)",
    )
    parser.add_argument("--master", default=None, help="Spark master when run without spark-submit")
    args = parser.parse_args(argv)
    args.resume_failed = int(os.environ.get(TRY_NUMBER_ENV) or 1) > 1
    return args


def databases(args: argparse.Namespace) -> Databases:
    dbs = Databases.from_env()
    names = dict(dbs.names)
    for item in args.db:
        logical, _, physical = item.partition("=")
        if logical not in names or not physical:
            raise SystemExit(f"--db expects LOGICAL=PHYSICAL with LOGICAL in {sorted(names)}, got {item!r}")
        names[logical] = physical
    return Databases(dbs.settings, names)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    config = SpvpConfig.from_json(args.config)
    dbs = databases(args)

    from trend.spark import build_session
    from trend.spvp.runner import run

    spark = build_session("spvp_batch", master=args.master)
    try:
        report = run(spark, args.dataset_id, config, dbs, rerun=args.rerun, resume_failed=args.resume_failed)
    except SpvpFailure as exc:
        print(f"spvp_batch: dataset {args.dataset_id} failed: E{int(exc.code)} {exc}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    print(f"spvp_batch: {report.summary()}")
    return 0 if report.status in ("completed", "skipped") else 3


if __name__ == "__main__":
    sys.exit(main())

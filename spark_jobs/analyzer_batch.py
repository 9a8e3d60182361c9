"""Spark entrypoint: analyse one dataset (spark-submit spark_jobs/analyzer_batch.py --dataset-id N).

Config: ``--config path.json`` and/or ``--set key=value`` (JSON values); MySQL
credentials only from the MYSQL_URL environment variable, the LLM key from the
variable named by ``llm_api_key_env``. Exit codes: 0 completed, 1 a recorded failure
(worth a retry), 2 the dataset could not be claimed, 3 an input error recorded on the
dataset (status 9, error_code 1xxx). Any status 9 exits non-zero, so the task fails.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset-id", type=int, required=True)
    parser.add_argument("--config", help="JSON file with AnalyzerConfig fields")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config field; VALUE is JSON (bare strings allowed)",
    )
    parser.add_argument("--master", help="Spark master when not given by spark-submit")
    return parser.parse_args(argv)


def load_config(args: argparse.Namespace):
    from trend.analyzer.settings import AnalyzerConfig

    values: dict = {}
    if args.config:
        with open(args.config, encoding="utf-8") as handle:
            values.update(json.load(handle))
    for item in args.set:
        key, _, raw = item.partition("=")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return AnalyzerConfig.from_dict(values)


def exit_code(result) -> int:
    """0 completed; 1 a failure recorded on the dataset (status 9) worth a retry; 2 not claimed;
    3 an input error recorded on the dataset (status 9; retrying the same input fails the same way)."""
    if result.ok:
        return 0
    if result.status is None:
        return 2
    return 3 if result.error_code and result.error_code < 2000 else 1


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from trend.analyzer.job import run
    from trend.spark import build_session

    config = load_config(args)
    spark = build_session(f"analyzer_batch-{args.dataset_id}", master=args.master)
    try:
        result = run(spark, args.dataset_id, config)
    finally:
        spark.stop()
    summary = {
        "dataset_id": result.dataset_id,
        "status": result.status,
        "error_code": result.error_code,
        "error_message": result.error_message,
        "sentences": result.sentences,
        "excluded_products": result.excluded,
        "k": result.k,
        "k0": result.k0,
        "kept_cluster_ids": result.kept_cluster_ids,
        "label_fallback": result.label_fallback,
        "similarity_method": result.similarity_method,
        "timings": result.timings,
        "clusters": [vars(c) for c in result.clusters],
    }
    print("ANALYZER_RESULT " + json.dumps(summary), flush=True)
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())

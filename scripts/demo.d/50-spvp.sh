#!/usr/bin/env bash
# make demo, SPVP step (after analysis): load the demo viewpoints, point the datasets at them,
# run spvp_batch through Airflow (SparkSubmitOperator), print viewpoint counts per product.
set -euo pipefail
cd "$(dirname "$0")/../.."
"$PY" -m trend.spvp.load_viewpoints include/viewpoints/synthetic.yaml
"$PY" -m trend_dev.spvp_demo prepare --category synthetic-electronics
dag spvp_batch
grep -h "spvp_batch: dataset" "$DEMO_DIR/logs/spvp_batch.log" | sed "s/^.*spvp_batch: /  job: /; s/ \[airflow.*$//" || true
"$PY" -m trend_dev.spvp_demo report --category synthetic-electronics

#!/usr/bin/env bash
# make demo, SPVP step (after analysis): spvp_batch through Airflow (SparkSubmitOperator) maps the
# analysed datasets to the viewpoint category their wishlist was given (demo.sh, load_viewpoints
# --assign-wishlist), then prints viewpoint counts per product.
set -euo pipefail
cd "$(dirname "$0")/../.."
dag spvp_batch
grep -h "spvp_batch: dataset" "$DEMO_DIR/logs/spvp_batch.log" | sed "s/^.*spvp_batch: /  job: /; s/ \[airflow.*$//" || true
"$PY" -m trend_dev.spvp_demo report --category synthetic-electronics

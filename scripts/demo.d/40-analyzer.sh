#!/usr/bin/env bash
# The demo's analyzer step: analyzer_batch through Airflow (SparkSubmitOperator, local master),
# then the clusters of every dataset with their labels and sizes.
set -euo pipefail
: "${PY:?PY must point at the venv python}"
export AIRFLOW_CONN_SPARK_DEFAULT="${AIRFLOW_CONN_SPARK_DEFAULT:-spark://local?deploy-mode=client&spark-binary=spark-submit}"
log="${DEMO_DIR:-/tmp}/logs/analyzer_batch.log"; mkdir -p "$(dirname "$log")"
if ! airflow dags test analyzer_batch >"$log" 2>&1; then
  echo "demo: DAG analyzer_batch failed; last lines of $log:"; tail -60 "$log"; exit 1
fi
sed -nE 's/.*DagRun Finished: dag_id=([^,]*),.*run_duration=([0-9.]+), state=([a-z]+).*/  run: \1 \3 in \2 s/p' "$log"
grep -q "state=success" "$log" || { echo "demo: analyzer_batch did not succeed; see $log"; exit 1; }
"$PY" -m trend.analyzer.report --job-log "$log"

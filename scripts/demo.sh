#!/usr/bin/env bash
# make demo: the dataset workflow end to end on the local MySQL (MYSQL_URL), run by Airflow itself.
# Uses databases prefixed "demo_" (TP_DB_PREFIX) so real data is never touched; each run starts clean.
set -euo pipefail
cd "$(dirname "$0")/.."
export PY="$PWD/.venv/bin/python"
export TP_DB_PREFIX="${TP_DB_PREFIX-demo_}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export DEMO_DIR="${DEMO_DIR:-$PWD/var/demo}"
rm -rf "$DEMO_DIR"; mkdir -p "$DEMO_DIR"
export TP_LOCAL_MARKETPLACE_DUMP="$DEMO_DIR/marketplace"

demo_started=$(date +%s.%N)
step() {  # step "title" command...: run and print its wall time
  local title=$1; shift
  echo; echo "=== $title ==="
  local t0; t0=$(date +%s.%N)
  "$@"
  printf '=== %s: %.1f s ===\n' "$title" "$(echo "$(date +%s.%N) - $t0" | bc)"
}
dag() {  # dag DAG_ID [CONF]: run one DAG through Airflow, keep its log, show the task results
  local log="$DEMO_DIR/logs/$1.log"; mkdir -p "$DEMO_DIR/logs"
  if ! airflow dags test "$1" ${2:+--conf "$2"} >"$log" 2>&1; then
    echo "demo: DAG $1 failed; last lines of $log:"; tail -40 "$log"; exit 1
  fi
  sed -nE 's/.*Returned value was: (.*) \[airflow\.task.*/  result: \1/p; s/.*DagRun Finished: dag_id=([^,]*),.*run_duration=([0-9.]+), state=([a-z]+).*/  run: \1 \3 in \2 s/p' "$log" | cut -c1-600
  grep -q "state=success" "$log" || { echo "demo: DAG $1 did not succeed; see $log"; exit 1; }
}
export -f dag

step "check MySQL" "$PY" -m trend_dev.demo check
step "reset demo databases" "$PY" -m trend_dev.demo reset
step "seed synthetic marketplace and wishlists" "$PY" -m trend_dev.demo seed --dump "$TP_LOCAL_MARKETPLACE_DUMP"
# The wishlist's viewpoint category, as a user gives it (make load-viewpoints … ASSIGN_WISHLIST=…):
# dataset_create copies it into the datasets, spvp_batch maps their sentences to it.
demo_wishlist=$("$PY" -c 'from trend_dev.demo import DEMO_WISHLIST; print(DEMO_WISHLIST)')
step "viewpoint category for wishlist $demo_wishlist" \
  "$PY" -m trend.spvp.load_viewpoints include/viewpoints/synthetic.yaml --assign-wishlist "$demo_wishlist"
eval "$("$PY" -m trend_dev.local_airflow "$DEMO_DIR/airflow")"
echo "demo: Airflow home $AIRFLOW_HOME (SQLite metadata, dags/ of this repo)"
step "crawl_sync (Airflow)" dag crawl_sync
step "dataset_create (Airflow)" dag dataset_create
step "dataset_status_sync (Airflow)" dag dataset_status_sync

# Later phases add their own steps here (analysis, SPVP, catalog graph).
for part in scripts/demo.d/*.sh; do
  [ -e "$part" ] || continue
  step "$(basename "$part" .sh)" bash "$part"
done

step "report" "$PY" -m trend_dev.demo report
printf '\ndemo: finished in %.1f s\n' "$(echo "$(date +%s.%N) - $demo_started" | bc)"

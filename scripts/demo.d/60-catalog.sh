#!/usr/bin/env bash
# Catalog graph part of `make demo`: seed a small catalog in the embedded gremlite store,
# rebuild it through Airflow (catalog_graph_recompute, full_rebuild mode), change a setting,
# let the DAG consume the change message from SQS (moto), run the consistency check DAG and
# print before/after of the affected nodes. Needs PY, DEMO_DIR; AIRFLOW_HOME for the Airflow part
# (without it the steps run in-process). A moto server is started here unless AWS_ENDPOINT_URL is set.
set -euo pipefail
: "${PY:?PY must point at the venv python}" "${DEMO_DIR:?DEMO_DIR must be a scratch folder}"
export CATALOG_GRAPH_SQLITE="$DEMO_DIR/catalog_graph.sqlite"
export CATALOG_DEMO_BEFORE="$DEMO_DIR/catalog_before.json"
rm -f "$CATALOG_GRAPH_SQLITE" "$CATALOG_DEMO_BEFORE"
unset GREMLIN_URL

moto_pid=""
stop_moto() { if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi; }
trap stop_moto EXIT
if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$PY" -m moto.server -H 127.0.0.1 -p "$port" >"$DEMO_DIR/moto.log" 2>&1 &
  moto_pid=$!
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_DEFAULT_REGION=us-east-1
  for _ in $(seq 100); do
    "$PY" -c "import urllib.request as u; u.urlopen('$AWS_ENDPOINT_URL/moto-api/')" 2>/dev/null && break
    sleep 0.2
  done
  echo "catalog demo: moto (DynamoDB + SQS) at $AWS_ENDPOINT_URL, pid $moto_pid"
fi

if ! declare -F dag >/dev/null; then  # run alone: a minimal `dag` helper
  dag() {
    local log="$DEMO_DIR/logs/$1.log"; mkdir -p "$DEMO_DIR/logs"
    airflow dags test "$1" ${2:+--conf "$2"} >"$log" 2>&1 || { tail -40 "$log"; return 1; }
    sed -nE 's/.*Returned value was: (.*) \[airflow\.task.*/  result: \1/p' "$log" | cut -c1-600
    grep -q "state=success" "$log" || { echo "DAG $1 did not succeed; see $log"; return 1; }
  }
fi

"$PY" -m trend_dev.catalog_demo seed
if [ -n "${AIRFLOW_HOME:-}" ]; then
  echo "--- catalog_graph_recompute, full_rebuild of catalog 'demo' (Airflow)"
  dag catalog_graph_recompute '{"mode": "full_rebuild", "catalog_id": "demo"}'
  "$PY" -m trend_dev.catalog_demo change
  echo "--- catalog_graph_recompute, consuming the change message (Airflow)"
  dag catalog_graph_recompute '{"mode": "consume", "max_messages": 10}'
  echo "--- catalog_graph_consistency_check (Airflow)"
  dag catalog_graph_consistency_check '{"catalog_ids": ["demo"], "repair": false}'
  "$PY" -m trend_dev.catalog_demo report
else
  echo "catalog demo: AIRFLOW_HOME not set; running the in-process demo instead"
  CATALOG_GRAPH_SQLITE="$DEMO_DIR/catalog_graph_inprocess.sqlite" "$PY" -m trend_dev.catalog_demo
fi

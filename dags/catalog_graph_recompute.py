"""Catalog graph recompute.

`catalog_graph_recompute` consumes change messages (SQS FIFO, one message group per catalog)
in batches, recomputes what they touch, writes the graph and the DynamoDB CategoryNode table,
and deletes each message only after its commit. Trigger it with mode `full_rebuild` and a
`catalog_id` to rebuild one catalog from scratch.

`catalog_graph_consistency_check` compares stored finals with a from-scratch recompute every
night and reports (and by default repairs) drift. Logic: `trend.catalog_graph.airflow_tasks`.
"""

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from trend.dag_defaults import CATALOG_TEAM, default_args

DEFAULT_ARGS = default_args(CATALOG_TEAM, retries=3, retry_delay_seconds=20, max_retry_delay_minutes=5)
MODES = ["consume", "full_rebuild"]


@dag(
    dag_id="catalog_graph_recompute",
    schedule=timedelta(minutes=5),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["catalog-graph", "gremlin", "dynamodb"],
    params={
        "mode": Param(
            "consume",
            type="string",
            enum=MODES,
            description="consume: drain the change queue; full_rebuild: recompute one catalog",
        ),
        "catalog_id": Param(None, type=["null", "string"], description="Catalog to rebuild (full_rebuild mode)"),
        "max_messages": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="Messages per run (empty: config table value, default 100)",
        ),
    },
    doc_md=__doc__,
)
def catalog_graph_recompute():
    @task.branch
    def choose_mode(params=None) -> str:
        return "full_rebuild" if params["mode"] == "full_rebuild" else "consume_messages"

    @task
    def consume_messages(params=None) -> dict:
        from trend.catalog_graph.airflow_tasks import consume_messages as run

        return run(params["max_messages"])

    @task
    def full_rebuild(params=None) -> dict:
        from trend.catalog_graph.airflow_tasks import rebuild_catalog

        return rebuild_catalog(params["catalog_id"])

    choose_mode() >> [consume_messages(), full_rebuild()]


@dag(
    dag_id="catalog_graph_consistency_check",
    schedule="30 3 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["catalog-graph", "consistency"],
    params={
        "catalog_ids": Param([], type="array", items={"type": "string"}, description="Catalogs to check (empty: all)"),
        "repair": Param(
            None,
            type=["null", "boolean"],
            description="Write the from-scratch result on drift (empty: config table, default true)",
        ),
    },
    doc_md=__doc__,
)
def catalog_graph_consistency_check():
    @task
    def check(params=None) -> dict:
        from trend.catalog_graph.airflow_tasks import consistency_check

        return consistency_check(params["catalog_ids"] or None, params["repair"])

    check()


catalog_graph_recompute()
catalog_graph_consistency_check()

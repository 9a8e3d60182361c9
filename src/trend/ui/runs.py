"""Which Airflow DAG runs produced a dataset, read from Airflow's metadata DB (api-server only).

The DAGs do not write run ids into our tables; their tasks' return values (XCom) already name
the datasets they handled, so the map below is the one place that knows which task says what.
If a DAG's task changes its return value, only ``PRODUCERS`` changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

SCAN_LIMIT = 2000  # newest return values read per request
RUNS_PER_DAG = 3  # newest runs shown per dataset and DAG


def _from_created(value: Any) -> list[int]:  # dataset_create.create -> [{"dataset_id": 7, ...}]
    return [int(v["dataset_id"]) for v in value or [] if isinstance(v, dict) and "dataset_id" in v]


def _from_args(value: Any) -> list[int]:  # analyzer_batch.plan, spvp_batch.pick -> [["--dataset-id", "7", ...], ...]
    ids = []
    for args in value or []:
        if isinstance(args, list) and "--dataset-id" in args:
            at = args.index("--dataset-id") + 1
            if at < len(args) and str(args[at]).isdigit():
                ids.append(int(args[at]))
    return ids


PRODUCERS: dict[tuple[str, str], Callable[[Any], list[int]]] = {
    ("dataset_create", "create"): _from_created,
    ("analyzer_batch", "plan"): _from_args,
    ("spvp_batch", "pick"): _from_args,
}


@dataclass(frozen=True)
class RunLink:
    dag_id: str
    run_id: str
    state: str | None
    run_after: str | None

    def as_dict(self, airflow_root: str) -> dict:
        url = f"{airflow_root}dags/{quote(self.dag_id, safe='')}/runs/{quote(self.run_id, safe='')}"
        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "state": self.state,
            "run_after": self.run_after,
            "url": url,
        }


def dataset_ids(dag_id: str, task_id: str, value: Any) -> list[int]:
    """Datasets named by one task's return value; [] for values of another shape."""
    parse = PRODUCERS.get((dag_id, task_id))
    try:
        return parse(value) if parse else []
    except (TypeError, ValueError, AttributeError):
        log.warning("unexpected return value of %s.%s; no dataset ids read from it", dag_id, task_id)
        return []


def _rows(dag_ids: Iterable[str]) -> list[tuple]:
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import and_, or_, select

    pairs = [(d, t) for d, t in PRODUCERS if d in set(dag_ids)]
    if not pairs:
        return []
    stmt = (
        select(XComModel.dag_id, XComModel.task_id, XComModel.run_id, XComModel.value, DagRun._state, DagRun.run_after)
        .join(DagRun, DagRun.id == XComModel.dag_run_id)
        .where(XComModel.key == "return_value", XComModel.map_index == -1)
        .where(or_(*(and_(XComModel.dag_id == d, XComModel.task_id == t) for d, t in pairs)))
        .order_by(XComModel.timestamp.desc())
        .limit(SCAN_LIMIT)
    )
    with create_session() as session:
        return [tuple(r) for r in session.execute(stmt)]


def runs_by_dataset(wanted: set[int], readable_dags: Iterable[str]) -> dict[int, list[RunLink]]:
    """Newest runs (at most RUNS_PER_DAG per DAG) of the readable DAGs that handled each wanted dataset."""
    from airflow.models.xcom import XComModel

    found: dict[int, list[RunLink]] = {}
    for dag_id, task_id, run_id, raw, state, run_after in _rows(readable_dags):
        value = XComModel.deserialize_value(_Result(raw))
        for dataset_id in set(dataset_ids(dag_id, task_id, value)) & wanted:
            links = found.setdefault(dataset_id, [])
            if sum(1 for link in links if link.dag_id == dag_id) < RUNS_PER_DAG:
                links.append(
                    RunLink(dag_id, run_id, str(state) if state else None, run_after.isoformat() if run_after else None)
                )
    return found


@dataclass(frozen=True)
class _Result:
    """The shape XComModel.deserialize_value reads (an object with ``value``)."""

    value: Any

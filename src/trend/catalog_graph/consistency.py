"""Consistency check: compare stored finals (graph and CategoryNode table) with a from-scratch
recomputation, report the drift and optionally repair it."""

from __future__ import annotations

from dataclasses import dataclass, field

from trend.catalog_graph.dynamo import CategoryNodeTable
from trend.catalog_graph.model import VertexLabel, catalog_node_id
from trend.catalog_graph.recompute import full_rebuild
from trend.catalog_graph.rules import derive
from trend.catalog_graph.snapshot import read_snapshot
from trend.catalog_graph.store import GraphStore


@dataclass
class DriftReport:
    catalog_id: str
    nodes: int = 0
    graph_drift: list[str] = field(default_factory=list)  # node ids whose stored state differs
    table_drift: list[str] = field(default_factory=list)  # node ids whose table row differs/misses
    repaired: bool = False

    @property
    def clean(self) -> bool:
        return not self.graph_drift and not self.table_drift


def list_catalogs(store: GraphStore) -> list[str]:
    return sorted(store.run(store.g.V().has_label(VertexLabel.CATALOG_NODE.value).values("catalogId")))


def check_catalog(
    store: GraphStore, catalog_id: str, table: CategoryNodeTable | None = None, repair: bool = False
) -> DriftReport:
    snapshot = read_snapshot(store, catalog_node_id(catalog_id))
    expected = derive(snapshot.truth)
    report = DriftReport(catalog_id, nodes=len(expected))
    report.graph_drift = sorted(nid for nid, state in expected.items() if snapshot.stored[nid].state != state)
    rows = table.rows(catalog_id) if table is not None else {}
    if table is not None:
        report.table_drift = sorted(
            nid for nid, state in expected.items() if nid not in rows or rows[nid].state != state
        )
    if repair and not report.clean:
        result = full_rebuild(store, catalog_id, sink=table)
        if table is not None:  # rows whose graph node was already right: rewrite at the graph's rev
            rewritten = set(result.written_ids)
            for nid in report.table_drift:
                if nid not in rewritten:
                    table.put_row(catalog_id, nid, expected[nid], snapshot.stored[nid].rev)
        report.repaired = True
    return report

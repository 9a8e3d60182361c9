"""Consistency check: compare stored derived state (graph and CategoryNode table) with a
from-scratch recomputation, report the drift and optionally repair it."""

from __future__ import annotations

from dataclasses import dataclass, field

from trend.catalog_graph.model import VertexLabel
from trend.catalog_graph.node_table import CategoryNodeTable
from trend.catalog_graph.recompute import full_rebuild
from trend.catalog_graph.rules import derive
from trend.catalog_graph.snapshot import read_catalog
from trend.catalog_graph.store import GraphStore
from trend.catalog_graph.vertex import CATALOG_ID


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
    return sorted(store.run(store.g.V().has_label(VertexLabel.CATALOG_NODE.value).values(CATALOG_ID)))


def check_catalog(
    store: GraphStore, catalog_id: str, table: CategoryNodeTable | None = None, repair: bool = False
) -> DriftReport:
    snapshot = read_catalog(store, catalog_id)
    expected = derive(snapshot.truth)
    report = DriftReport(catalog_id, nodes=len(expected))
    report.graph_drift = sorted(nid for nid, state in expected.items() if snapshot.rows[nid].state != state)
    if table is not None:
        rows = table.rows(catalog_id)
        report.table_drift = sorted(
            nid for nid, state in expected.items() if nid not in rows or not rows[nid].matches(state)
        )
    if repair and not report.clean:
        result = full_rebuild(store, catalog_id, sink=table)
        if table is not None:  # rows whose graph node was already right: rewrite at the graph's rev
            rewritten = set(result.written_ids)
            for nid in report.table_drift:
                if nid not in rewritten:
                    table.put_row(catalog_id, nid, expected[nid], snapshot.rows[nid].rev)
        report.repaired = True
    return report

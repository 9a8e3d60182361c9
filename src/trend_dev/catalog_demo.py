"""Catalog graph demo: build a small catalog, change a setting, print before/after.

    python -m trend_dev.catalog_demo            # everything in-process (make demo-catalog)
    python -m trend_dev.catalog_demo seed       # steps used by scripts/demo.d/60-catalog.sh,
    python -m trend_dev.catalog_demo change     # with the recompute run by Airflow between them
    python -m trend_dev.catalog_demo report

The graph is the embedded gremlite file at $CATALOG_GRAPH_SQLITE (default: a temp file for the
all-in-one run). When an AWS endpoint is configured (AWS_ENDPOINT_URL), ``seed`` also creates the
DynamoDB tables and the FIFO queue, and ``change`` publishes its message to the queue.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

from trend.catalog_graph import operations as ops
from trend.catalog_graph.model import DerivedState, NodeSettings, category_node_id
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.read_api import catalog_tree
from trend.catalog_graph.recompute import process_all, process_message
from trend.catalog_graph.store import EMBEDDED_PATH_ENV, GraphStore, open_file
from trend.catalog_graph.vertex import parse_state, state_json

CATALOG = "demo"
ROOT = f"catalogNode_{CATALOG}"
BEFORE_FILE_ENV = "CATALOG_DEMO_BEFORE"
NAMESPACE = uuid.UUID("0f5d0c0e-8f7b-4d36-9a0b-5c1e2d3f4a5b")


def node_id(path: str) -> str:
    """The demo's node ids are derived from their path, so every step finds them again."""
    category = path.rsplit("/", 1)[-1]
    return category_node_id(CATALOG, category, str(uuid.uuid5(NAMESPACE, path)))


CHANGED_NODE = node_id("electronics")


def eq(field: str, value: object) -> dict:
    return {"field": field, "op": "eq", "value": value}


def seed(store: GraphStore) -> list:
    """A catalog with 9 categories; 'cameras' also sits under 'gifts' (two placements)."""
    s = NodeSettings
    msgs = [
        ops.create_catalog(
            store, CATALOG, NodeSettings.root("product", eq("shop", "demo"), ("price", "title")), "alice"
        )
    ]
    tree = [
        ("electronics", s(filter=eq("dept", "electronics"), filter_mode=M.APPEND)),
        ("electronics/phones", s()),
        (
            "electronics/cameras",
            s(
                filter=eq("type", "camera"),
                filter_mode=M.APPEND,
                required_data=("megapixels",),
                required_data_mode=M.APPEND,
            ),
        ),
        ("electronics/cameras/lenses", s()),
        ("electronics/refurbished", s("sellOffer", M.NONE, eq("condition", "refurb"), M.NONE, ("grade",), M.NONE)),
        ("home", s(filter=eq("dept", "home"), filter_mode=M.APPEND)),
        ("home/kitchen", s()),
        ("gifts", s(filter=eq("tag", "gift"), filter_mode=M.NONE)),
        ("gifts/cameras", s()),
    ]
    for path, settings in tree:
        parent = node_id(path.rsplit("/", 1)[0]) if "/" in path else ROOT
        category = path.rsplit("/", 1)[-1]
        node_uuid = node_id(path).rsplit("_", 1)[1]
        msgs.append(ops.add_category_node(store, parent, category, settings, "alice", node_uuid=node_uuid))
    return msgs


def _name(node_id_: str) -> str:
    if node_id_ == ROOT:
        return "(catalog, categoryId 0)"
    return NAMES.get(node_id_, node_id_)


NAMES = {
    node_id(p): "/" + p
    for p in (
        "electronics",
        "electronics/phones",
        "electronics/cameras",
        "electronics/cameras/lenses",
        "electronics/refurbished",
        "home",
        "home/kitchen",
        "gifts",
        "gifts/cameras",
    )
}


def _values(state: DerivedState, combined: dict | None) -> str:
    return (
        f"searchType={state.final.search_type} filter={state.final.filter.text} "
        f"requiredData={','.join(state.final.required_data)} {'enabled' if state.enabled else 'disabled'} "
        f"version={state.version}\n{'':>14}combined: {json.dumps(combined)}"
    )


def _views(store: GraphStore) -> dict[str, tuple[DerivedState, dict | None]]:
    return {n.node_id: (n.state, n.combined_filter) for n in catalog_tree(store, CATALOG).walk()}


def print_states(title: str, views: dict) -> None:
    print(title)
    for nid in sorted(views, key=_name):
        print(f"  {_name(nid)}\n{'':>14}{_values(*views[nid])}")


def print_before_after(before: dict, after: dict) -> int:
    changed = sorted((n for n in after if before.get(n) != after[n]), key=_name)
    print(f"\n{len(changed)} of {len(after)} nodes changed:")
    for nid in changed:
        print(f"  {_name(nid)}")
        print(f"    before:   {_values(*before[nid]) if nid in before else '(new)'}")
        print(f"    after:    {_values(*after[nid])}")
    unchanged = sorted((n for n in after if n not in changed), key=_name)
    print("unchanged: " + ", ".join(_name(n) for n in unchanged))
    return len(changed)


def change(store: GraphStore):
    """Electronics switches from appending to its own filter; refurbished (mode none) stays."""
    own = {"or": [eq("dept", "electronics"), eq("dept", "gadgets")]}
    return ops.change_settings(store, CHANGED_NODE, NodeSettings(filter=own, filter_mode=M.NONE), "bob")


def _state_json(views: dict) -> str:
    return json.dumps({n: [state_json(s, 0), combined] for n, (s, combined) in views.items()})


def _state_from_json(text: str) -> dict:
    return {n: (parse_state(v[0])[0], v[1]) for n, v in json.loads(text).items()}


def _aws():
    if not os.environ.get("AWS_ENDPOINT_URL"):
        return None
    from trend.catalog_graph.airflow_tasks import aws_clients

    return aws_clients()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="catalog graph demo")
    parser.add_argument("step", nargs="?", default="all", choices=["all", "seed", "change", "report"])
    args = parser.parse_args(argv)
    path = os.environ.get(EMBEDDED_PATH_ENV)
    tmp = None
    if not path:
        tmp = tempfile.TemporaryDirectory(prefix="catalog-demo-")
        path = str(Path(tmp.name) / "catalog.sqlite")
    before_file = Path(os.environ.get(BEFORE_FILE_ENV, str(Path(path).with_suffix(".before.json"))))
    store = open_file(path)
    try:
        if args.step == "all":
            process_all(store, seed(store))
            before = _views(store)
            print_states("catalog 'demo' after seeding and recompute:", before)
            msg = change(store)
            print("\nchange: /electronics filter -> own dept = electronics OR dept = gadgets (mode none)")
            result = process_message(store, msg)
            print(
                f"recompute: {result.round_trips} graph round trips, {result.nodes_read} nodes read, "
                f"{result.nodes_written} nodes written"
            )
            print_before_after(before, _views(store))
        elif args.step == "seed":
            msgs = seed(store)
            print(f"seeded catalog 'demo': {len(msgs)} changes in {path}")
            clients = _aws()
            if clients:
                from trend.catalog_graph.dynamo import ensure_tables
                from trend.catalog_graph.sqs import ensure_queue

                ensure_tables(clients[0])
                print(f"DynamoDB tables ready; queue {ensure_queue(clients[1])}")
        elif args.step == "change":
            before_file.write_text(_state_json(_views(store)))
            msg = change(store)
            print(f"changed {CHANGED_NODE}: message {msg.to_json()}")
            clients = _aws()
            if clients:
                from trend.catalog_graph.sqs import publish, queue_url

                publish(clients[1], queue_url(clients[1]), [msg])
                print("published to the recompute queue")
        else:
            before = _state_from_json(before_file.read_text())
            after = _views(store)
            print_states("catalog 'demo' now:", after)
            changed = print_before_after(before, after)
            clients = _aws()
            if clients:
                from trend.catalog_graph.node_table import CategoryNodeTable

                rows = CategoryNodeTable(clients[0]).rows(CATALOG)
                same = sum(1 for n, r in rows.items() if n in after and r.matches(after[n][0]))
                print(f"DynamoDB CategoryNode table: {len(rows)} rows, {same} equal to the graph")
            if changed == 0:
                print("demo: expected the change to reach some nodes", file=sys.stderr)
                return 1
        return 0
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())

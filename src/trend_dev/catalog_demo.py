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
from pathlib import Path

from trend.catalog_graph import operations as ops
from trend.catalog_graph.model import DerivedState, NodeSettings
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.recompute import process_message, stored_states
from trend.catalog_graph.store import EMBEDDED_PATH_ENV, GraphStore, open_embedded

CATALOG = "demo"
ROOT = f"catalog:{CATALOG}"
CHANGED_NODE = f"{ROOT}/electronics"
BEFORE_FILE_ENV = "CATALOG_DEMO_BEFORE"


def seed(store: GraphStore) -> list:
    """A catalog with 9 categories; 'cameras' also sits under 'gifts' (two parents)."""
    s = NodeSettings
    msgs = [ops.create_catalog(store, CATALOG, NodeSettings.root("keyword", "shop:demo", ("price", "title")), "alice")]
    tree = [
        (ROOT, "electronics", s(filter="dept:electronics", filter_mode=M.APPEND)),
        (f"{ROOT}/electronics", "phones", s()),
        (
            f"{ROOT}/electronics",
            "cameras",
            s(filter="type:camera", filter_mode=M.APPEND, required_data=("megapixels",), required_data_mode=M.APPEND),
        ),
        (f"{ROOT}/electronics/cameras", "lenses", s()),
        (f"{ROOT}/electronics", "refurbished", s("image", M.NONE, "condition:refurb", M.NONE, ("grade",), M.NONE)),
        (ROOT, "home", s(filter="dept:home", filter_mode=M.APPEND)),
        (f"{ROOT}/home", "kitchen", s()),
        (ROOT, "gifts", s(filter="tag:gift", filter_mode=M.NONE)),
        (f"{ROOT}/gifts", "cameras", s()),
    ]
    for parent, category, settings in tree:
        msgs.append(ops.add_category_node(store, parent, category, settings, "alice"))
    return msgs


def _name(node_id: str) -> str:
    return node_id[len(ROOT) :] or "(catalog, categoryId 0)"


def _values(state: DerivedState) -> str:
    combined = " OR ".join(f"[{b}]" for b in state.combined_filter)
    return (
        f"searchType={state.final.search_type} filter={state.final.filter} "
        f"requiredData={','.join(state.final.required_data)} {'enabled' if state.enabled else 'disabled'} "
        f"version={state.version}\n{'':>14}combined: {combined}"
    )


def print_states(title: str, states: dict[str, DerivedState]) -> None:
    print(title)
    for node_id in sorted(states):
        print(f"  {_name(node_id)}\n{'':>14}{_values(states[node_id])}")


def print_before_after(before: dict[str, DerivedState], after: dict[str, DerivedState]) -> int:
    changed = sorted(n for n in after if before.get(n) != after[n])
    print(f"\n{len(changed)} of {len(after)} nodes changed:")
    for node_id in changed:
        print(f"  {_name(node_id)}")
        print(f"    before:   {_values(before[node_id]) if node_id in before else '(new)'}")
        print(f"    after:    {_values(after[node_id])}")
    unchanged = sorted(set(after) - set(changed))
    print("unchanged: " + ", ".join(_name(n) for n in unchanged))
    return len(changed)


def change(store: GraphStore):
    """Electronics switches from appending to its own filter; refurbished (mode none) stays."""
    return ops.change_settings(
        store, CHANGED_NODE, NodeSettings(filter="dept:electronics OR dept:gadgets", filter_mode=M.NONE), "bob"
    )


def _state_json(states: dict[str, DerivedState]) -> str:
    return json.dumps(
        {
            n: [
                s.final.search_type,
                s.final.filter,
                list(s.final.required_data),
                s.enabled,
                list(s.combined_filter),
                s.version,
            ]
            for n, s in states.items()
        }
    )


def _state_from_json(text: str) -> dict[str, DerivedState]:
    from trend.catalog_graph.model import FinalSettings

    return {
        n: DerivedState(FinalSettings(v[0], v[1], tuple(v[2])), v[3], tuple(v[4]), v[5])
        for n, v in json.loads(text).items()
    }


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
    store = open_embedded(path)
    try:
        if args.step == "all":
            for msg in seed(store):
                process_message(store, msg)
            before = stored_states(store, CATALOG)
            print_states("catalog 'demo' after seeding and recompute:", before)
            msg = change(store)
            print(f"\nchange: {CHANGED_NODE} filter -> own 'dept:electronics OR dept:gadgets' (mode none)")
            result = process_message(store, msg)
            print(
                f"recompute: {result.round_trips} graph round trips, {result.nodes_read} nodes read, "
                f"{result.nodes_written} nodes written"
            )
            print_before_after(before, stored_states(store, CATALOG))
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
            before_file.write_text(_state_json(stored_states(store, CATALOG)))
            msg = change(store)
            print(f"changed {CHANGED_NODE}: message {msg.to_json()}")
            clients = _aws()
            if clients:
                from trend.catalog_graph.sqs import publish, queue_url

                publish(clients[1], queue_url(clients[1]), [msg])
                print("published to the recompute queue")
        else:
            before = _state_from_json(before_file.read_text())
            after = stored_states(store, CATALOG)
            print_states("catalog 'demo' now:", after)
            changed = print_before_after(before, after)
            clients = _aws()
            if clients:
                from trend.catalog_graph.dynamo import CategoryNodeTable

                rows = CategoryNodeTable(clients[0]).rows(CATALOG)
                same = sum(1 for n, r in rows.items() if after.get(n) == r.state)
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

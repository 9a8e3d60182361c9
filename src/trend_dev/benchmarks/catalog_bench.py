"""Catalog graph benchmark on the embedded gremlite store: numbers, not pass/fail.

    python -m trend_dev.benchmarks.catalog_bench [--nodes 10000,100000] [--baseline-s 20.1]
                                                 [--semantics gremlite|neptune] [--no-dynamodb]

For each size N it builds an N-node tree (fanout 10, 10 % of nodes with all modes none, 30 %
appending their own filter) with the batched bulk import, then prints wall time, graph round
trips, nodes read and nodes written (rows touched) of

1. a full recompute (first build of the derived state) — graph only, then the same rows and
   blocks written to DynamoDB (a moto server) with BatchWriteItem, and the largest item;
2. a settings change of a leaf (its path up to the catalog: O(depth) rows);
3. replaying that change's message (stale: skipped);
4. a catalog-level filter change (reads only what depends on it, split into follow-up messages
   past ``--max-nodes``), with its follow-ups;
5. a full recompute with nothing to change (the consistency-check cost).

``--baseline-s`` is the 10k full recompute time of the baseline (main before issue 11: 20.1 s
in the issue; measure it on the same machine state and pass it) to print the ratio.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from trend.catalog_graph import operations as ops
from trend.catalog_graph.bulk import NewNode, add_category_nodes_bulk, imported_node_id
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.model import NodeSettings, catalog_node_id
from trend.catalog_graph.recompute import NodeWrite, RecomputeResult, full_rebuild, process_message
from trend.catalog_graph.snapshot import read_catalog, read_node
from trend.catalog_graph.store import GraphStore, open_file

CATALOG = "bench"
T0 = 1_700_000_000_000_000


def _filter(field: str, value: object) -> dict:
    return {"field": field, "op": "eq", "value": value}


def tree_spec(total: int, fanout: int, rng: random.Random) -> list[NewNode]:
    """A breadth-first tree of ``total`` nodes, ``fanout`` children per node; mostly match, some
    append, some none (where propagation stops)."""
    nodes: list[NewNode] = []
    frontier = [catalog_node_id(CATALOG)]
    next_category = 1
    while len(nodes) < total:
        new_frontier = []
        for parent in frontier:
            for _ in range(fanout):
                if len(nodes) == total:
                    break
                roll = rng.random()
                if roll < 0.1:
                    own = _filter("shelf", next_category)
                    settings = NodeSettings("sellOffer", M.NONE, own, M.NONE, ("img",), M.NONE)
                elif roll < 0.4:
                    settings = NodeSettings(filter=_filter("cat", next_category), filter_mode=M.APPEND)
                else:
                    settings = NodeSettings()
                ref = str(next_category)
                nodes.append(NewNode(ref, parent, ref, settings))
                new_frontier.append(ref)
                next_category += 1
        frontier = new_frontier
    return nodes


def _line(name: str, seconds: tuple[float, float], result: RecomputeResult) -> str:
    wall, cpu = seconds
    return (
        f"  {name:<46} {wall:8.3f} s (cpu {cpu:7.3f} s)  round trips {result.round_trips:5d}  "
        f"nodes read {result.nodes_read:7d}  rows touched {result.nodes_written:7d}"
    )


@contextmanager
def _moto():
    """A moto server on a free port, or nothing when moto is not installed."""
    import socket

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _table(endpoint: str):
    import boto3

    from trend.catalog_graph.dynamo import ensure_tables
    from trend.catalog_graph.node_table import CategoryNodeTable

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    suffix = str(int(time.time() * 1000))
    ensure_tables(client, f"cfg{suffix}", f"nodes{suffix}", f"blocks{suffix}")
    return CategoryNodeTable(client, f"nodes{suffix}", f"blocks{suffix}")


def _timed(fn, *args, **kwargs):
    """((wall seconds, CPU seconds of this process), value): the machine is shared, CPU time
    shows the work done regardless of what else runs."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn(*args, **kwargs)
    return (time.perf_counter() - wall, time.process_time() - cpu), value


def _deepest_leaf(spec: list[NewNode]) -> str:
    """Ref of the last-built node that follows its parent (match): a leaf at the deepest level."""
    parents = {n.parent for n in spec}
    return next(n.ref for n in reversed(spec) if n.ref not in parents and n.settings == NodeSettings())


def _build(store: GraphStore, total: int, fanout: int, seed: int) -> tuple[tuple, list[NewNode], dict]:
    root_settings = NodeSettings.root("product", _filter("shop", "bench"), ("price",))
    ops.create_catalog(store, CATALOG, root_settings, "bench", at=T0)
    spec = tree_spec(total, fanout, random.Random(seed))
    trips = store.round_trips
    build, _ = _timed(add_category_nodes_bulk, store, CATALOG, spec, "bench", import_id="bench", at=T0 + 1)
    ids = {n.ref: imported_node_id(CATALOG, "bench", n) for n in spec}
    print(
        f"  {'build (batched bulk import, truth only)':<46} {build[0]:8.3f} s (cpu {build[1]:7.3f} s)"
        f"  round trips {store.round_trips - trips:5d}"
    )
    return build, spec, ids


def _dynamodb(store: GraphStore, table) -> tuple[tuple, int]:
    """Every node's row and blocks to DynamoDB, as the full recompute's sink would send them."""
    snapshot = read_catalog(store, CATALOG)
    writes = [NodeWrite(r.record, r.vid, r.derived_text, r.rev - 1, r.state) for r in snapshot.rows.values()]
    seconds, _ = _timed(table.put_nodes, CATALOG, writes)
    return seconds, len(writes)


def run(total: int, fanout: int, seed: int, semantics: str, endpoint: str | None, max_nodes: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as tmp:
        store = open_file(Path(tmp) / "bench.sqlite", semantics)
        try:
            print(f"catalog graph bench: {total} nodes, fanout {fanout}, {store.semantics.value} ({tmp})")
            build, spec, ids = _build(store, total, fanout, seed)
            full_s, full = _timed(full_rebuild, store, CATALOG)
            print(_line("full recompute (graph)", full_s, full))
            figures = {"build": build, "full": full_s, "full_round_trips": full.round_trips}
            figures["nodes_written"] = full.nodes_written
            if endpoint:
                figures.update(_table_figures(store, _table(endpoint)))
            figures.update(_leaf_change(store, ids[_deepest_leaf(spec)]))
            figures.update(_catalog_change(store, max_nodes))
            noop_s, noop = _timed(full_rebuild, store, CATALOG)
            print(_line("full recompute, nothing changed", noop_s, noop))
            figures["noop_full"] = noop_s
            return figures
        finally:
            store.close()


def _table_figures(store: GraphStore, table) -> dict:
    seconds, rows = _dynamodb(store, table)
    print(
        f"  {'  + DynamoDB rows and blocks (BatchWriteItem)':<46} {seconds[0]:8.3f} s (cpu {seconds[1]:7.3f} s)"
        f"  requests {table.requests}  rows {rows}  blocks {table.blocks_written}"
        f"  max item {table.max_item_bytes} bytes"
    )
    return {"dynamodb": seconds, "max_item_bytes": table.max_item_bytes}


def _leaf_change(store: GraphStore, leaf: str) -> dict:
    settings = NodeSettings(filter=_filter("sale", True), filter_mode=M.APPEND)
    msg = ops.change_settings(store, leaf, settings, "bench")
    seconds, result = _timed(process_message, store, msg)
    print(_line(f"leaf settings change (depth {_depth(store, leaf)})", seconds, result))
    replay_s, replay = _timed(process_message, store, msg)
    print(_line("replay of that message (stale, skipped)", replay_s, replay))
    return {"leaf": seconds, "leaf_round_trips": result.round_trips, "leaf_rows": result.nodes_written}


def _depth(store: GraphStore, node_id: str) -> int:
    return len(read_node(store, node_id).path)


def _catalog_change(store: GraphStore, max_nodes: int) -> dict:
    root = catalog_node_id(CATALOG)
    msg = ops.change_settings(store, root, NodeSettings.root("product", _filter("shop", "bench2"), ("price",)), "b")
    first_s, first = _timed(process_message, store, msg, max_nodes=max_nodes)
    print(_line(f"catalog filter change (<= {max_nodes} nodes a message)", first_s, first))
    queue, follow = list(first.follow_ups), RecomputeResult(root)
    slowest, total = first_s[0], list(first_s)
    while queue:
        seconds, result = _timed(process_message, store, queue.pop(0), max_nodes=max_nodes)
        slowest = max(slowest, seconds[0])
        total = [total[0] + seconds[0], total[1] + seconds[1]]
        queue.extend(result.follow_ups)
        follow.round_trips += result.round_trips
        follow.nodes_read += result.nodes_read
        follow.nodes_written += result.nodes_written
    rest = (total[0] - first_s[0], total[1] - first_s[1])
    print(_line(f"  + its {len(first.follow_ups)} follow-up messages and theirs", rest, follow))
    return {"catalog_change": tuple(total), "catalog_change_slowest_s": slowest}


def main(argv: list[str] | None = None) -> None:
    """``argv`` None (as `make bench` calls it): defaults, or CATALOG_BENCH_NODES."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default=os.environ.get("CATALOG_BENCH_NODES", "10000,100000"))
    parser.add_argument("--fanout", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--semantics", default="gremlite", choices=["gremlite", "neptune"])
    parser.add_argument("--max-nodes", type=int, default=20_000, help="nodes per recompute message before follow-ups")
    parser.add_argument("--baseline-s", type=float, default=20.1, help="baseline 10k full recompute seconds")
    parser.add_argument("--no-dynamodb", action="store_true", help="skip the moto DynamoDB writes")
    args = parser.parse_args(argv or [])
    sizes = [int(n) for n in str(args.nodes).split(",")]
    results = {}
    with _no_moto() if args.no_dynamodb else _moto() as endpoint:
        for total in sizes:
            results[total] = run(total, args.fanout, args.seed, args.semantics, endpoint, args.max_nodes)
    _summary(results, args.baseline_s)


@contextmanager
def _no_moto():
    yield None


def _summary(results: dict, baseline_s: float) -> None:
    print("\nsummary (wall s / cpu s)")
    for total, fig in results.items():
        print(
            f"  {total:>7} nodes: build {fig['build'][0]:.1f} / {fig['build'][1]:.1f}, "
            f"full recompute {fig['full'][0]:.2f} / {fig['full'][1]:.2f} "
            f"({fig['full_round_trips']} round trips, {fig['nodes_written']} nodes written)"
        )
        if "max_item_bytes" in fig:
            print(f"           DynamoDB write {fig['dynamodb'][0]:.1f} s, max item {fig['max_item_bytes']} bytes")
        print(
            f"           leaf change {fig['leaf_round_trips']} round trips, {fig['leaf_rows']} rows touched; "
            f"catalog filter change {fig['catalog_change'][0]:.1f} / {fig['catalog_change'][1]:.1f} "
            f"(longest message {fig['catalog_change_slowest_s']:.1f} s)"
        )
    if 10_000 in results:
        full = results[10_000]["full"][0]
        print(f"  10k full recompute {full:.2f} s vs baseline {baseline_s:.1f} s: {baseline_s / full:.1f}x faster")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Catalog graph benchmark on the embedded gremlite store: numbers, not pass/fail.

    python -m trend_dev.benchmarks.catalog_bench [--nodes 10000] [--seed 7]

Prints the wall time, graph round trips and nodes read/touched (written) of
1. a full recompute of an N-node tree (first build of the derived state),
2. an incremental settings change at depth 3 (its subtree + the path up to the catalog),
3. replaying that change's message (stale: skipped),
4. a full recompute with nothing to change (the consistency-check cost).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from trend.catalog_graph import operations as ops
from trend.catalog_graph.model import MatchMode as M
from trend.catalog_graph.model import NodeSettings, catalog_node_id
from trend.catalog_graph.recompute import RecomputeResult, full_rebuild, process_message
from trend.catalog_graph.store import open_embedded

CATALOG = "bench"


def tree_spec(total: int, fanout: int, rng: random.Random) -> list[ops.NewNode]:
    """A breadth-first tree of ``total`` nodes, ``fanout`` children per node; mostly match, some
    append, some none (where propagation stops)."""
    nodes: list[ops.NewNode] = []
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
                    settings = NodeSettings("image", M.NONE, f"own:{next_category}", M.NONE, ("img",), M.NONE)
                elif roll < 0.4:
                    settings = NodeSettings(filter=f"cat:{next_category}", filter_mode=M.APPEND)
                else:
                    settings = NodeSettings()
                nodes.append(ops.NewNode(parent, str(next_category), settings))
                new_frontier.append(f"{parent}/{next_category}")
                next_category += 1
        frontier = new_frontier
    return nodes


def _line(name: str, seconds: float, result: RecomputeResult) -> str:
    return (
        f"{name:<38} {seconds:8.3f} s  round trips {result.round_trips:4d}  "
        f"nodes read {result.nodes_read:6d}  nodes touched {result.nodes_written:6d}"
    )


def run(total: int = 10_000, fanout: int = 10, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as tmp:
        store = open_embedded(Path(tmp) / "bench.sqlite")
        try:
            print(f"catalog graph bench: {total} nodes, fanout {fanout}, embedded gremlite ({tmp})")
            ops.create_catalog(store, CATALOG, NodeSettings.root("keyword", "shop:bench", ("price",)), "bench")
            spec = tree_spec(total, fanout, rng)
            started = time.perf_counter()
            trips = store.round_trips
            ops.add_category_nodes_bulk(store, CATALOG, spec, "bench")
            build = time.perf_counter() - started
            print(f"{'build (bulk import, truth only)':<38} {build:8.3f} s  round trips {store.round_trips - trips:4d}")

            started = time.perf_counter()
            full = full_rebuild(store, CATALOG)
            full_s = time.perf_counter() - started
            print(_line("full recompute", full_s, full))

            depth3 = next(
                f"{n.parent_node_id}/{n.category_id}"
                for n in spec
                if n.parent_node_id.count("/") == 2 and n.settings == NodeSettings()
            )
            msg = ops.change_settings(store, depth3, NodeSettings(filter="sale", filter_mode=M.APPEND), "bench")
            started = time.perf_counter()
            incremental = process_message(store, msg)
            inc_s = time.perf_counter() - started
            print(_line("incremental change at depth 3", inc_s, incremental))

            started = time.perf_counter()
            replay = process_message(store, msg)
            replay_s = time.perf_counter() - started
            print(_line("replay of that message (stale, skipped)", replay_s, replay))

            started = time.perf_counter()
            check = full_rebuild(store, CATALOG)
            check_s = time.perf_counter() - started
            print(_line("full recompute, nothing changed", check_s, check))
            print(
                f"ratio full / incremental wall time: {full_s / inc_s:.1f}x; "
                f"nodes touched {full.nodes_written} vs {incremental.nodes_written}"
            )
            return {
                "build_s": build,
                "full_s": full_s,
                "incremental_s": inc_s,
                "replay_s": replay_s,
                "noop_full_s": check_s,
            }
        finally:
            store.close()


def main(argv: list[str] | None = None) -> None:
    """``argv`` None (as `make bench` calls it): defaults, or CATALOG_BENCH_NODES."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("CATALOG_BENCH_NODES", "10000")))
    parser.add_argument("--fanout", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv or [])
    run(args.nodes, args.fanout, args.seed)


if __name__ == "__main__":
    main(sys.argv[1:])

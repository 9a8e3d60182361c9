"""Graph access: one ``GraphTraversalSource`` for the embedded gremlite store, a gremlite store
with Neptune's semantics, or a Gremlin Server / Neptune endpoint.

Only plain Gremlin (gremlinpython 3.7) is used, limited to the steps gremlite supports, so the
same traversals run on gremlite, Gremlin Server and Neptune. Every traversal goes through
``GraphStore.run`` which counts round trips for the benchmark.

Engines differ in two ways that matter here, and the code is written for the strictest:

* **Property cardinality.** TinkerGraph/gremlite default to ``single``; Neptune defaults to
  ``set`` (``property(k, v)`` adds a value, ``has(k, v)`` then matches any of them) and has no
  ``list``. Every vertex property write therefore names ``Cardinality.single`` (see
  ``vertex_property``); edge properties are single-valued everywhere.
* **Transactions.** Embedded gremlite is one SQLite transaction until ``commit()``; Neptune and
  Gremlin Server commit each request (traversal) by itself and roll it back on error. So each
  change is written by ONE traversal, and ``commit``/``rollback`` are no-ops on those stores.

``open_neptune_emulation`` gives a gremlite store with Neptune's defaults (set cardinality
unless one is named, ``list`` rejected, each request its own transaction): the contract suite
runs on it so that a missing cardinality or a multi-request change cannot come back unnoticed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversal, GraphTraversalSource
from gremlin_python.process.traversal import Bytecode, Cardinality

log = logging.getLogger(__name__)

GREMLIN_URL_ENV = "GREMLIN_URL"
EMBEDDED_PATH_ENV = "CATALOG_GRAPH_SQLITE"
SEMANTICS_ENV = "CATALOG_GRAPH_SEMANTICS"  # "gremlite" (default) or "neptune" for the embedded file
DEFAULT_EMBEDDED_PATH = "catalog_graph.sqlite"


class Semantics(str, Enum):
    GREMLITE = "gremlite"  # embedded, explicit transaction, single cardinality by default
    NEPTUNE_EMULATION = "neptune"  # embedded, Neptune's defaults (set cardinality, request = transaction)
    REMOTE = "remote"  # Gremlin Server or Neptune over websocket


@dataclass
class GraphStore:
    g: GraphTraversalSource
    remote: Any
    semantics: Semantics
    round_trips: int = field(default=0)

    @property
    def transactional(self) -> bool:
        """True when writes stay pending until ``commit()`` (embedded gremlite only)."""
        return self.semantics is Semantics.GREMLITE

    @property
    def list_cardinality(self) -> bool:
        """``Cardinality.list_`` is available (gremlite: skips a look-up on new vertices)."""
        return self.semantics is Semantics.GREMLITE

    def run(self, t: GraphTraversal) -> list:
        """Send one traversal and return all its results (one round trip)."""
        self.round_trips += 1
        return t.to_list()

    def commit(self) -> None:
        """Embedded gremlite: commit the SQLite transaction. Others: each request commits itself."""
        if self.transactional:
            self.remote.commit()

    def rollback(self) -> None:
        if self.transactional:
            self.remote.rollback()

    def close(self) -> None:
        try:
            self.remote.close()
        except Exception:  # closing is best effort
            log.debug("closing the graph connection failed", exc_info=True)


def open_embedded(path: str | Path) -> GraphStore:
    from gremlite import SQLiteConnection

    remote = SQLiteConnection(str(path), timeout=30.0)
    return GraphStore(traversal().with_remote(remote), remote, Semantics.GREMLITE)


def open_neptune_emulation(path: str | Path) -> GraphStore:
    """gremlite with Neptune's defaults: see the module docstring and ``_neptune``."""
    from trend.catalog_graph._neptune import NeptuneSemanticsConnection

    remote = NeptuneSemanticsConnection(str(path), timeout=30.0)
    return GraphStore(traversal().with_remote(remote), remote, Semantics.NEPTUNE_EMULATION)


def open_remote(url: str) -> GraphStore:
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection

    remote = DriverRemoteConnection(url, "g")
    return GraphStore(traversal().with_remote(remote), remote, Semantics.REMOTE)


def open_file(path: str | Path, semantics: str | None = None) -> GraphStore:
    """The embedded file, with gremlite's or Neptune's semantics (``CATALOG_GRAPH_SEMANTICS``)."""
    chosen = Semantics(semantics or os.environ.get(SEMANTICS_ENV, Semantics.GREMLITE.value))
    if chosen is Semantics.NEPTUNE_EMULATION:
        return open_neptune_emulation(path)
    if chosen is Semantics.GREMLITE:
        return open_embedded(path)
    raise ValueError(f"{SEMANTICS_ENV}={chosen.value}: an embedded file is gremlite or neptune")


def open_store(url: str | None = None, path: str | Path | None = None) -> GraphStore:
    """Remote when a URL is given or ``GREMLIN_URL`` is set, else the embedded file."""
    url = url or os.environ.get(GREMLIN_URL_ENV)
    if url:
        return open_remote(url)
    return open_file(path or os.environ.get(EMBEDDED_PATH_ENV, DEFAULT_EMBEDDED_PATH))


def vertex_property(t: GraphTraversal, key: str, value: object) -> GraphTraversal:
    """Set a vertex property, replacing any value (Neptune would otherwise add one)."""
    return t.property(Cardinality.single, key, value)


def new_vertex_properties(store: GraphStore, t: GraphTraversal, items) -> GraphTraversal:
    """Properties of a vertex created in this traversal. On gremlite, list cardinality skips the
    look-up for an existing value (there is none on a new vertex: same result, ~2x faster);
    everywhere else single, which Neptune and Gremlin Server both honour."""
    cardinality = Cardinality.list_ if store.list_cardinality else Cardinality.single
    for key, value in items:
        if value is not None:
            t = t.property(cardinality, key, value)
    return t


def bytecode_steps(bytecode: Bytecode) -> list[list]:
    """Step instructions of a traversal (nested anonymous traversals included), for tests."""
    steps = []
    for step in bytecode.step_instructions:
        steps.append(step)
        for arg in step[1:]:
            if isinstance(arg, Bytecode):
                steps.extend(bytecode_steps(arg))
    return steps

"""Graph access: one ``GraphTraversalSource`` for the embedded gremlite store or a Gremlin Server.

Only plain Gremlin (gremlinpython 3.7) is used, limited to the steps gremlite supports, so the
same traversals run on gremlite, Gremlin Server and Neptune. Every traversal goes through
``GraphStore.run`` which counts round trips for the benchmark.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversal, GraphTraversalSource

log = logging.getLogger(__name__)

GREMLIN_URL_ENV = "GREMLIN_URL"
EMBEDDED_PATH_ENV = "CATALOG_GRAPH_SQLITE"
DEFAULT_EMBEDDED_PATH = "catalog_graph.sqlite"


@dataclass
class GraphStore:
    g: GraphTraversalSource
    remote: Any
    embedded: bool
    round_trips: int = field(default=0)

    def run(self, t: GraphTraversal) -> list:
        """Send one traversal and return all its results (one round trip)."""
        self.round_trips += 1
        return t.to_list()

    def commit(self) -> None:
        """Embedded store: commit the SQLite transaction. Remote: each request commits itself."""
        if self.embedded:
            self.remote.commit()

    def rollback(self) -> None:
        if self.embedded:
            self.remote.rollback()

    def close(self) -> None:
        try:
            self.remote.close()
        except Exception:  # closing is best effort
            log.debug("closing the graph connection failed", exc_info=True)


def open_embedded(path: str | Path) -> GraphStore:
    from gremlite import SQLiteConnection

    remote = SQLiteConnection(str(path), timeout=30.0)
    return GraphStore(traversal().with_remote(remote), remote, embedded=True)


def open_remote(url: str) -> GraphStore:
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection

    remote = DriverRemoteConnection(url, "g")
    return GraphStore(traversal().with_remote(remote), remote, embedded=False)


def open_store(url: str | None = None, path: str | Path | None = None) -> GraphStore:
    """Remote when a URL is given or ``GREMLIN_URL`` is set, else embedded gremlite."""
    url = url or os.environ.get(GREMLIN_URL_ENV)
    if url:
        return open_remote(url)
    return open_embedded(path or os.environ.get(EMBEDDED_PATH_ENV, DEFAULT_EMBEDDED_PATH))

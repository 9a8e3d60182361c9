"""Recompute messages: what a change emits and the DAG consumes (SQS FIFO, group per catalog)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from enum import Enum

from trend.catalog_graph.model import CatalogGraphError, parse_node_id


class ChangeKind(str, Enum):
    CATALOG_CREATED = "catalogCreated"
    NODE_ADDED = "nodeAdded"
    SETTINGS_CHANGED = "settingsChanged"
    ENABLED = "enabled"
    DISABLED = "disabled"
    FULL_REBUILD = "fullRebuild"
    CHILDREN_ADDED = "childrenAdded"  # a bulk import added several children under the node
    FOLLOW_UP = "followUp"  # the rest of a recompute that was split (always processed)


class BadMessageError(CatalogGraphError):
    pass


@dataclass(frozen=True)
class RecomputeMessage:
    """Recompute the subtree under ``node_id``.

    ``version`` is the version timestamp the node's inputs (its parent's final and its own
    settings/edges) have after the change. A node whose stored version is already >= it has
    incorporated the change, so the message is stale and skipped.
    """

    catalog_id: str
    node_id: str
    version: int
    kind: ChangeKind

    @property
    def message_id(self) -> str:
        """Deterministic: the same change always dedupes to the same id (SQS FIFO dedup).
        A SHA-256 of node, version and kind: no two changes share one (``a_b`` vs ``a-b`` once did)."""
        key = f"{self.node_id}#{self.version}#{self.kind.value}"
        return hashlib.sha256(key.encode()).hexdigest()

    def to_json(self) -> str:
        body = asdict(self)
        body["kind"] = self.kind.value
        return json.dumps(body, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RecomputeMessage:
        try:
            body = json.loads(text)
            message = cls(
                catalog_id=str(body["catalog_id"]),
                node_id=str(body["node_id"]),
                version=int(body["version"]),
                kind=ChangeKind(body["kind"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadMessageError(str(text)[:200], f"not a recompute message ({exc})") from None
        catalog_id, _ = parse_node_id(message.node_id)
        if catalog_id != message.catalog_id:
            raise BadMessageError(message.node_id, f"node is not in catalog {message.catalog_id}")
        return message

"""DynamoDB: the per-service config table (read with caching), the CategoryNode table (each
node's finals and the digest of its combined filter, for fast browsing) and the filter-block
table (every combined-filter block once, under its digest).

Every item stays far below DynamoDB's 400 KB limit by construction (see ``combined.py``; a final
filter over ``INLINE_FILTER_BYTES`` is stored as a block too), and every item is measured before
it is sent: one that is still too large fails with ``NonRetryableWriteError`` naming it. Writes
use ``BatchWriteItem`` (25 items per request; unprocessed items are retried with backoff).
Errors DynamoDB will repeat on a retry (validation, missing table, item too large) raise
``NonRetryableWriteError``; the consumer dead-letters that message and goes on with the others.
Throttling and server errors raise ``RetryableWriteError`` and the message stays queued.

Rows and blocks are written before the graph, without conditions (BatchWriteItem takes none).
Blocks are immutable (content-addressed). A row can be overwritten by a slower writer of the
same catalog only when two consumers overlap on one FIFO group (visibility timeout expired); the
graph's conditional writes make the loser retry, which rewrites its rows, and the nightly
consistency check repairs what is left.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, ClassVar

from trend.catalog_graph.model import CatalogGraphError

log = logging.getLogger(__name__)

CONFIG_TABLE_ENV = "CATALOG_CONFIG_TABLE"
NODE_TABLE_ENV = "CATALOG_NODE_TABLE"
BLOCK_TABLE_ENV = "CATALOG_BLOCK_TABLE"
DEFAULT_CONFIG_TABLE = "catalog_graph_config"
DEFAULT_NODE_TABLE = "catalog_graph_category_node"
DEFAULT_BLOCK_TABLE = "catalog_graph_filter_block"
MAX_ITEM_BYTES = 400 * 1024
INLINE_FILTER_BYTES = 32 * 1024
BATCH_ITEMS = 25
NON_RETRYABLE_CODES = frozenset(
    {
        "ValidationException",
        "ResourceNotFoundException",
        "ItemCollectionSizeLimitExceededException",
        "AccessDeniedException",
    }
)


def config_table_name() -> str:
    return os.environ.get(CONFIG_TABLE_ENV, DEFAULT_CONFIG_TABLE)


def node_table_name() -> str:
    return os.environ.get(NODE_TABLE_ENV, DEFAULT_NODE_TABLE)


def block_table_name() -> str:
    return os.environ.get(BLOCK_TABLE_ENV, DEFAULT_BLOCK_TABLE)


class NonRetryableWriteError(CatalogGraphError):
    """DynamoDB refused a write and would refuse it again: dead-letter the message."""


class RetryableWriteError(CatalogGraphError):
    """Throttled or a server error: leave the message queued and try later."""


# --- config table ---------------------------------------------------------------------------


class ConfigTag(str, Enum):
    """configTag values of the config table: the design's, then this service's own."""

    CATEGORY_TREE_SERVICE_NAME_TAG = "CategoryTreeServiceNameTag"
    CATALOG_GRAPH_SERVICE_NAME = "CatalogGraphServiceName"
    CATEGORY_TREE_SERVICE = "CategoryTreeService"  # configKey: a service name tag; value {serviceName}
    DEFAULT_VALUE = "defaultValue"
    RECOMPUTE = "catalogGraph.recompute"
    QUEUE = "catalogGraph.queue"
    CONSISTENCY = "catalogGraph.consistency"


@dataclass(frozen=True)
class CatalogGraphConfig:
    """Typed config with defaults; ``KEYS`` maps each field to (configTag, configKey)."""

    category_tree_service_name_tag: str = "CategoryTreeStandard"
    catalog_graph_service_name: str = "CatalogGraph"
    location_tree_area_node_id: str | None = None  # the design leaves it open ("USA, or international?")
    browse_quantity: int = 1
    max_messages_per_run: int = 100
    max_attempts: int = 3  # re-reads after a version conflict
    max_nodes_per_message: int = 20_000  # nodes one recompute reads before splitting into follow-ups
    wait_seconds: int = 1  # long-poll per receive
    visibility_timeout: int = 300  # seconds a received message stays hidden
    repair: bool = True  # the consistency check writes the from-scratch result on drift

    KEYS: ClassVar[dict[str, tuple[ConfigTag, str]]] = {
        "category_tree_service_name_tag": (ConfigTag.CATEGORY_TREE_SERVICE_NAME_TAG, "CategoryTreeServiceNameTag"),
        "catalog_graph_service_name": (ConfigTag.CATALOG_GRAPH_SERVICE_NAME, "CatalogGraphServiceName"),
        "location_tree_area_node_id": (ConfigTag.DEFAULT_VALUE, "locationTreeAreaNodeId"),
        "browse_quantity": (ConfigTag.DEFAULT_VALUE, "browseQuantity"),
        "max_messages_per_run": (ConfigTag.RECOMPUTE, "maxMessagesPerRun"),
        "max_attempts": (ConfigTag.RECOMPUTE, "maxAttempts"),
        "max_nodes_per_message": (ConfigTag.RECOMPUTE, "maxNodesPerMessage"),
        "wait_seconds": (ConfigTag.QUEUE, "waitSeconds"),
        "visibility_timeout": (ConfigTag.QUEUE, "visibilityTimeout"),
        "repair": (ConfigTag.CONSISTENCY, "repair"),
    }
    TYPES: ClassVar[dict[str, type]] = {"location_tree_area_node_id": str}


class ConfigError(ValueError):
    def __init__(self, tag: str, key: str, value: object):
        super().__init__(f"config {tag}/{key}: bad value {value!r}")


def from_attribute(value: dict) -> object:
    """A DynamoDB attribute value as plain Python (S, N, BOOL, NULL, M, L)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return raw
    if kind == "N":
        return int(raw) if raw.lstrip("-").isdigit() else float(raw)
    if kind == "BOOL":
        return raw
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attribute(v) for k, v in raw.items()}
    if kind == "L":
        return [from_attribute(v) for v in raw]
    raise ValueError(f"unsupported attribute type {kind}")


def to_attribute(value: object) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f"no DynamoDB attribute for {type(value).__name__}")


def _coerce(default: object, kind: type, raw: object, tag: str, key: str) -> object:
    try:
        if kind is bool:
            text = str(raw).lower()
            if text not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return text in ("true", "1")
        if kind is int and isinstance(raw, float):
            raise ValueError(raw)
        return kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(tag, key, raw) from None


class ConfigStore:
    """Reads (configTag, configKey, configValue) rows; one query per tag per ``ttl`` seconds.
    ``configValue`` may be a string, number, boolean or a map."""

    def __init__(
        self, client, table: str | None = None, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self.client, self.table, self.ttl, self.clock = client, table or config_table_name(), ttl, clock
        self._cache: dict[str, tuple[float, dict[str, object]]] = {}
        self.queries = 0

    def tag_values(self, tag: ConfigTag) -> dict[str, object]:
        cached = self._cache.get(tag.value)
        if cached and self.clock() - cached[0] < self.ttl:
            return cached[1]
        self.queries += 1
        values: dict[str, object] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "configTag = :t",
            "ExpressionAttributeValues": {":t": {"S": tag.value}},
        }
        for item in _query_all(self.client, kwargs):
            values[item["configKey"]["S"]] = from_attribute(item["configValue"])
        self._cache[tag.value] = (self.clock(), values)
        return values

    def load(self) -> CatalogGraphConfig:
        defaults = CatalogGraphConfig()
        values: dict[str, Any] = {}  # each value has its field's type (_coerce)
        for f in fields(CatalogGraphConfig):
            tag, key = CatalogGraphConfig.KEYS[f.name]
            raw = self.tag_values(tag).get(key)
            default = getattr(defaults, f.name)
            kind = CatalogGraphConfig.TYPES.get(f.name, type(default))
            values[f.name] = default if raw is None else _coerce(default, kind, raw, tag.value, key)
        return CatalogGraphConfig(**values)

    def category_tree_service(self, name_tag: str) -> str:
        """The deployed service name for a category tree service name tag (map value
        ``{serviceName}``); a tag without a row maps to itself."""
        value = self.tag_values(ConfigTag.CATEGORY_TREE_SERVICE).get(name_tag)
        if value is None:
            return name_tag
        if not isinstance(value, dict) or not isinstance(value.get("serviceName"), str):
            raise ConfigError(ConfigTag.CATEGORY_TREE_SERVICE.value, name_tag, value)
        return value["serviceName"]

    def put(self, tag: ConfigTag, key: str, value: object) -> None:
        item = {"configTag": {"S": tag.value}, "configKey": {"S": key}, "configValue": to_attribute(value)}
        self.client.put_item(TableName=self.table, Item=item)
        self._cache.pop(tag.value, None)

    def seed_defaults(self) -> int:
        """Write the design's rows with their defaults where missing; returns rows written."""
        defaults = CatalogGraphConfig()
        rows = [(*CatalogGraphConfig.KEYS[f.name], getattr(defaults, f.name)) for f in fields(CatalogGraphConfig)]
        name = defaults.category_tree_service_name_tag
        rows.append((ConfigTag.CATEGORY_TREE_SERVICE, name, {"serviceName": name}))
        written = 0
        for tag, key, value in rows:
            if value is None:
                continue
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item={"configTag": {"S": tag.value}, "configKey": {"S": key}, "configValue": to_attribute(value)},
                    ConditionExpression="attribute_not_exists(configKey)",
                )
                written += 1
            except self.client.exceptions.ConditionalCheckFailedException:
                continue
        self._cache.clear()
        return written


def _query_all(client, kwargs: dict) -> Iterable[dict]:
    while True:
        page = client.query(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def ensure_tables(
    client, config_table: str | None = None, node_table: str | None = None, block_table: str | None = None
) -> None:
    """Create the tables if missing (tests, demo, local runs; production tables come from infra)."""
    existing = set(client.list_tables()["TableNames"])
    specs = {
        config_table or config_table_name(): ("configTag", "configKey"),
        node_table or node_table_name(): ("catalogId", "nodeKey"),
        block_table or block_table_name(): ("blockDigest", None),
    }
    for name, (hash_key, range_key) in specs.items():
        if name in existing:
            continue
        keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
        if range_key:
            keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
            attributes.append({"AttributeName": range_key, "AttributeType": "S"})
        client.create_table(
            TableName=name, KeySchema=keys, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
        )
        client.get_waiter("table_exists").wait(TableName=name)

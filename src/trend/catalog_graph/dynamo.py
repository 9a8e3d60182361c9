"""DynamoDB: the per-service config table (read with caching) and the CategoryNode table
(each node's final settings and combined filter for fast browsing, conditional writes)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, ClassVar

from trend.catalog_graph.model import TOP_LEVEL_CATEGORY_ID, DerivedState, FinalSettings, parse_node_id

log = logging.getLogger(__name__)

CONFIG_TABLE_ENV = "CATALOG_CONFIG_TABLE"
NODE_TABLE_ENV = "CATALOG_NODE_TABLE"
DEFAULT_CONFIG_TABLE = "catalog_graph_config"
DEFAULT_NODE_TABLE = "catalog_graph_category_node"


def config_table_name() -> str:
    return os.environ.get(CONFIG_TABLE_ENV, DEFAULT_CONFIG_TABLE)


def node_table_name() -> str:
    return os.environ.get(NODE_TABLE_ENV, DEFAULT_NODE_TABLE)


class ConfigTag(str, Enum):
    """configTag values of the config table (one per concern of the service)."""

    RECOMPUTE = "catalogGraph.recompute"
    QUEUE = "catalogGraph.queue"
    CONSISTENCY = "catalogGraph.consistency"


@dataclass(frozen=True)
class CatalogGraphConfig:
    """Typed config with defaults; each field is (configTag, configKey) in the table."""

    max_messages_per_run: int = 100  # recompute / maxMessagesPerRun
    max_attempts: int = 3  # recompute / maxAttempts (re-reads after a version conflict)
    wait_seconds: int = 1  # queue / waitSeconds (long-poll per receive)
    visibility_timeout: int = 300  # queue / visibilityTimeout (seconds a message stays hidden)
    repair: bool = True  # consistency / repair (write the from-scratch result on drift)

    KEYS: ClassVar[dict[str, tuple[ConfigTag, str]]] = {
        "max_messages_per_run": (ConfigTag.RECOMPUTE, "maxMessagesPerRun"),
        "max_attempts": (ConfigTag.RECOMPUTE, "maxAttempts"),
        "wait_seconds": (ConfigTag.QUEUE, "waitSeconds"),
        "visibility_timeout": (ConfigTag.QUEUE, "visibilityTimeout"),
        "repair": (ConfigTag.CONSISTENCY, "repair"),
    }


class ConfigError(ValueError):
    def __init__(self, tag: str, key: str, value: object):
        super().__init__(f"config {tag}/{key}: bad value {value!r}")


def _coerce(default: bool | int | float | str, raw: str, tag: str, key: str) -> bool | int | float | str:
    try:
        if isinstance(default, bool):
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1")
        return type(default)(raw)
    except ValueError:
        raise ConfigError(tag, key, raw) from None


class ConfigStore:
    """Reads (configTag, configKey, configValue) rows; one query per tag per ``ttl`` seconds."""

    def __init__(
        self, client, table: str | None = None, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self.client, self.table, self.ttl, self.clock = client, table or config_table_name(), ttl, clock
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}
        self.queries = 0

    def tag_values(self, tag: ConfigTag) -> dict[str, str]:
        cached = self._cache.get(tag.value)
        if cached and self.clock() - cached[0] < self.ttl:
            return cached[1]
        self.queries += 1
        values: dict[str, str] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "configTag = :t",
            "ExpressionAttributeValues": {":t": {"S": tag.value}},
        }
        while True:
            page = self.client.query(**kwargs)
            for item in page["Items"]:
                values[item["configKey"]["S"]] = item["configValue"]["S"]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        self._cache[tag.value] = (self.clock(), values)
        return values

    def load(self) -> CatalogGraphConfig:
        defaults = CatalogGraphConfig()
        values: dict[str, Any] = {}  # each value has its default's type (_coerce)
        for f in fields(CatalogGraphConfig):
            tag, key = CatalogGraphConfig.KEYS[f.name]
            raw = self.tag_values(tag).get(key)
            default = getattr(defaults, f.name)
            values[f.name] = default if raw is None else _coerce(default, raw, tag.value, key)
        return CatalogGraphConfig(**values)

    def put(self, tag: ConfigTag, key: str, value: str) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "configTag": {"S": tag.value},
                "configKey": {"S": key},
                "configValue": {"S": value},
            },
        )
        self._cache.pop(tag.value, None)


def ensure_tables(client, config_table: str | None = None, node_table: str | None = None) -> None:
    """Create both tables if missing (tests, demo, local runs; production tables come from infra)."""
    existing = set(client.list_tables()["TableNames"])
    specs = {
        config_table or config_table_name(): ("configTag", "configKey"),
        node_table or node_table_name(): ("catalogId", "nodePath"),
    }
    for name, (hash_key, range_key) in specs.items():
        if name in existing:
            continue
        client.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": hash_key, "KeyType": "HASH"},
                {"AttributeName": range_key, "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": hash_key, "AttributeType": "S"},
                {"AttributeName": range_key, "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(TableName=name)


def node_path(node_id: str) -> str:
    """CategoryNode sort key: the category path ("1/2/3"), or "0" for the catalog's record."""
    _, path = parse_node_id(node_id)
    return "/".join(path) if path else TOP_LEVEL_CATEGORY_ID


@dataclass(frozen=True)
class NodeRow:
    node_id: str
    state: DerivedState
    rev: int


class CategoryNodeTable:
    """Each node's final settings and combined filter, keyed (catalogId, nodePath)."""

    def __init__(self, client, table: str | None = None):
        self.client, self.table = client, table or node_table_name()
        self.puts = 0
        self.rejected = 0

    def put_row(self, catalog_id: str, node_id: str, state: DerivedState, rev: int) -> bool:
        """Conditional write: lands unless the table already holds a newer row (higher rev)."""
        _, path = parse_node_id(node_id)
        item = {
            "catalogId": {"S": catalog_id},
            "nodePath": {"S": node_path(node_id)},
            "nodeId": {"S": node_id},
            "categoryId": {"S": path[-1] if path else TOP_LEVEL_CATEGORY_ID},
            "parentCategoryId": {"S": (path[-2] if len(path) > 1 else TOP_LEVEL_CATEGORY_ID) if path else ""},
            "searchType": {"S": state.final.search_type},
            "filter": {"S": state.final.filter},
            "requiredData": {"L": [{"S": v} for v in state.final.required_data]},
            "combinedFilter": {"L": [{"S": v} for v in state.combined_filter]},
            "enabled": {"BOOL": state.enabled},
            "version": {"N": str(state.version)},
            "rev": {"N": str(rev)},
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(rev) OR rev <= :rev",
                ExpressionAttributeValues={":rev": {"N": str(rev)}},
            )
            self.puts += 1
            return True
        except self.client.exceptions.ConditionalCheckFailedException:
            self.rejected += 1
            log.info("CategoryNode %s: a newer row (rev > %d) is already stored", node_id, rev)
            return False

    def put_nodes(self, catalog_id: str, writes: Sequence) -> int:
        """DerivedSink for the recompute: one conditional put per written node."""
        return sum(self.put_row(catalog_id, w.node_id, w.state, w.new_rev) for w in writes)

    def rows(self, catalog_id: str) -> dict[str, NodeRow]:
        out: dict[str, NodeRow] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "catalogId = :c",
            "ExpressionAttributeValues": {":c": {"S": catalog_id}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            for item in page["Items"]:
                final = FinalSettings(
                    item["searchType"]["S"], item["filter"]["S"], tuple(v["S"] for v in item["requiredData"]["L"])
                )
                state = DerivedState(
                    final,
                    item["enabled"]["BOOL"],
                    tuple(v["S"] for v in item["combinedFilter"]["L"]),
                    int(item["version"]["N"]),
                )
                out[item["nodeId"]["S"]] = NodeRow(item["nodeId"]["S"], state, int(item["rev"]["N"]))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

"""The CategoryNode table (one row per node, the catalog's own row under categoryId 0) and the
filter-block table, written with BatchWriteItem. See ``dynamo.py`` for the error policy.

Row key: ``catalogId`` + ``nodeKey`` (``0`` for the catalog's top-level record, else
``{categoryId}#{node uuid}``, so ``begins_with(nodeKey, "12#")`` finds every placement of
category 12). Attributes: nodeId, categoryId, parentNodeId, searchType, filter (canonical JSON,
or ``filterRef``: the digest of a block holding it when it is over 32 KB), requiredData,
combinedFilter (digest of the root block; absent when nothing is browsable), enabled, version, rev.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from trend.catalog_graph.combined import build_blocks, expand
from trend.catalog_graph.dynamo import (
    BATCH_ITEMS,
    INLINE_FILTER_BYTES,
    MAX_ITEM_BYTES,
    NON_RETRYABLE_CODES,
    NonRetryableWriteError,
    RetryableWriteError,
    _query_all,
    block_table_name,
    node_table_name,
)
from trend.catalog_graph.filters import Filter, digest
from trend.catalog_graph.model import TOP_LEVEL_CATEGORY_ID, DerivedState, NodeNotFoundError, node_uuid, parse_node_id

log = logging.getLogger(__name__)
WRITE_ATTEMPTS = 6


def node_key(node_id: str) -> str:
    _, category_id = parse_node_id(node_id)
    return TOP_LEVEL_CATEGORY_ID if category_id is None else f"{category_id}#{node_uuid(node_id)}"


def attribute_bytes(value: dict) -> int:
    """DynamoDB's size of an attribute value (an upper bound for numbers)."""
    ((kind, raw),) = value.items()
    if kind in ("S", "B"):
        return len(raw.encode()) if isinstance(raw, str) else len(raw)
    if kind == "N":
        return 21
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_bytes(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_bytes(v) for k, v in raw.items())
    raise ValueError(f"unsupported attribute type {kind}")


def item_bytes(item: dict) -> int:
    return sum(len(name.encode()) + attribute_bytes(value) for name, value in item.items())


@dataclass(frozen=True)
class TableRow:
    node_id: str
    category_id: str
    search_type: str
    filter: Filter
    required_data: tuple[str, ...]
    enabled: bool
    version: int
    combined: str | None
    rev: int

    def matches(self, state: DerivedState) -> bool:
        final = state.final
        mine = (self.search_type, self.filter, self.required_data, self.enabled, self.version, self.combined)
        return mine == (
            final.search_type,
            final.filter,
            final.required_data,
            state.enabled,
            state.version,
            state.combined,
        )


def state_blocks(state: DerivedState) -> dict[str, str]:
    """Every block a node's row refers to: its combined filter's own blocks, and its final
    filter when that is too long to sit in the row."""
    blocks = dict(build_blocks(state.final.filter, state.group, (r for _, r in state.frontier)).blocks)
    if len(state.final.filter.text.encode()) > INLINE_FILTER_BYTES:
        blocks[state.final.filter.digest] = state.final.filter.text
    return blocks


class CategoryNodeTable:
    """Rows and blocks of the catalogs' nodes. Also the recompute's ``DerivedSink``."""

    def __init__(self, client, table: str | None = None, block_table: str | None = None):
        self.client, self.table = client, table or node_table_name()
        self.block_table = block_table or block_table_name()
        self.rows_written = 0
        self.blocks_written = 0
        self.requests = 0
        self.max_item_bytes = 0

    def row_item(self, catalog_id: str, node_id: str, state: DerivedState, rev: int) -> dict:
        _, category_id = parse_node_id(node_id)
        item: dict[str, Any] = {
            "catalogId": {"S": catalog_id},
            "nodeKey": {"S": node_key(node_id)},
            "nodeId": {"S": node_id},
            "categoryId": {"S": category_id or TOP_LEVEL_CATEGORY_ID},
            "searchType": {"S": state.final.search_type},
            "requiredData": {"L": [{"S": v} for v in state.final.required_data]},
            "enabled": {"BOOL": state.enabled},
            "version": {"N": str(state.version)},
            "rev": {"N": str(rev)},
        }
        if len(state.final.filter.text.encode()) > INLINE_FILTER_BYTES:
            item["filterRef"] = {"S": state.final.filter.digest}
        else:
            item["filter"] = {"S": state.final.filter.text}
        if state.combined is not None:
            item["combinedFilter"] = {"S": state.combined}
        return item

    def put_nodes(self, catalog_id: str, writes: Sequence, all_blocks: bool = False) -> int:
        """Blocks first (only those the previous state did not have, unless ``all_blocks``),
        then one row per written node."""
        blocks: dict[str, str] = {}
        for w in writes:
            old = set() if all_blocks or w.previous is None else set(state_blocks(w.previous))
            blocks.update({k: v for k, v in state_blocks(w.state).items() if k not in old})
        block_items = [({"blockDigest": {"S": k}, "block": {"S": v}}, k) for k, v in sorted(blocks.items())]
        self._batch_write(self.block_table, block_items)
        row_items = [(self.row_item(catalog_id, w.node_id, w.state, w.new_rev), w.node_id) for w in writes]
        self._batch_write(self.table, row_items)
        self.blocks_written += len(block_items)
        self.rows_written += len(row_items)
        return len(row_items)

    def put_row(self, catalog_id: str, node_id: str, state: DerivedState, rev: int) -> None:
        """One node's blocks and row (consistency repairs)."""
        blocks = state_blocks(state)
        self._batch_write(
            self.block_table, [({"blockDigest": {"S": k}, "block": {"S": v}}, k) for k, v in blocks.items()]
        )
        self._batch_write(self.table, [(self.row_item(catalog_id, node_id, state, rev), node_id)])

    def _batch_write(self, table: str, items: Sequence[tuple[dict, str]]) -> None:
        for start in range(0, len(items), BATCH_ITEMS):
            chunk = items[start : start + BATCH_ITEMS]
            for item, item_id in chunk:
                size = item_bytes(item)
                if size > MAX_ITEM_BYTES:
                    raise NonRetryableWriteError(item_id, f"{table} item is {size} bytes, over DynamoDB's 400 KB")
                self.max_item_bytes = max(self.max_item_bytes, size)
            request = {table: [{"PutRequest": {"Item": item}} for item, _ in chunk]}
            self._send(request, chunk[0][1])

    def _send(self, request: dict, first_id: str) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            self.requests += 1
            try:
                response = self.client.batch_write_item(RequestItems=request)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in NON_RETRYABLE_CODES:
                    raise NonRetryableWriteError(first_id, f"DynamoDB refused the batch: {code}: {exc}") from exc
                if attempt == WRITE_ATTEMPTS - 1:
                    raise RetryableWriteError(first_id, f"DynamoDB kept failing: {code}") from exc
                time.sleep(min(2.0, 0.05 * 2**attempt))
                continue
            request = response.get("UnprocessedItems") or {}
            if not request:
                return
            time.sleep(min(2.0, 0.05 * 2**attempt))
        raise RetryableWriteError(first_id, "DynamoDB left items unprocessed after retries")

    def rows(self, catalog_id: str) -> dict[str, TableRow]:
        kwargs = {
            "TableName": self.table,
            "KeyConditionExpression": "catalogId = :c",
            "ExpressionAttributeValues": {":c": {"S": catalog_id}},
            "ConsistentRead": True,
        }
        return {row.node_id: row for row in (self._parse(item) for item in _query_all(self.client, kwargs))}

    def row(self, node_id: str) -> TableRow:
        catalog_id, _ = parse_node_id(node_id)
        key = {"catalogId": {"S": catalog_id}, "nodeKey": {"S": node_key(node_id)}}
        item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            raise NodeNotFoundError(node_id, "no CategoryNode row")
        return self._parse(item)

    def _parse(self, item: dict) -> TableRow:
        text = item["filter"]["S"] if "filter" in item else self.block(item["filterRef"]["S"])
        return TableRow(
            item["nodeId"]["S"],
            item["categoryId"]["S"],
            item["searchType"]["S"],
            Filter(text),
            tuple(v["S"] for v in item["requiredData"]["L"]),
            item["enabled"]["BOOL"],
            int(item["version"]["N"]),
            item["combinedFilter"]["S"] if "combinedFilter" in item else None,
            int(item["rev"]["N"]),
        )

    def block(self, block_digest: str) -> str:
        item = self.client.get_item(TableName=self.block_table, Key={"blockDigest": {"S": block_digest}}).get("Item")
        if item is None:
            raise NodeNotFoundError(block_digest, "no such filter block")
        text = item["block"]["S"]
        if digest(text) != block_digest:
            raise NodeNotFoundError(block_digest, "filter block does not match its digest")
        return text

    def combined_filter(self, row: TableRow) -> dict | None:
        """The row's full combined filter (every block resolved)."""
        cache: dict[str, str] = {}

        def lookup(block_digest: str) -> str:
            if block_digest not in cache:
                cache[block_digest] = self.block(block_digest)
            return cache[block_digest]

        return expand(row.combined, lookup)

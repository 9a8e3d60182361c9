"""SQS FIFO transport for recompute messages: one message group per catalog, deterministic
deduplication ids, and a consumer that deletes a message only after its recompute committed."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from trend.catalog_graph.messages import BadMessageError, RecomputeMessage
from trend.catalog_graph.model import CatalogGraphError
from trend.catalog_graph.recompute import DerivedSink, process_with_retry
from trend.catalog_graph.store import GraphStore

log = logging.getLogger(__name__)

QUEUE_URL_ENV = "CATALOG_QUEUE_URL"
DEFAULT_QUEUE_NAME = "catalog-graph-recompute.fifo"


def ensure_queue(client, name: str = DEFAULT_QUEUE_NAME) -> str:
    """Create the FIFO queue if needed (tests, demo); returns its URL."""
    if not name.endswith(".fifo"):
        raise ValueError(f"queue {name!r}: FIFO queue names end with .fifo")
    return client.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]


def queue_url(client) -> str:
    return os.environ.get(QUEUE_URL_ENV) or client.get_queue_url(QueueName=DEFAULT_QUEUE_NAME)["QueueUrl"]


def publish(client, url: str, messages: Iterable[RecomputeMessage]) -> int:
    """Send messages, grouped per catalog so one catalog's changes are consumed in order."""
    batch: list[dict] = []
    sent = 0
    for i, msg in enumerate(messages):
        batch.append(
            {
                "Id": str(i),
                "MessageBody": msg.to_json(),
                "MessageGroupId": msg.catalog_id,
                "MessageDeduplicationId": "".join(c if c.isalnum() else "-" for c in msg.message_id),
            }
        )
        if len(batch) == 10:
            sent += _send(client, url, batch)
            batch = []
    if batch:
        sent += _send(client, url, batch)
    return sent


def _send(client, url: str, batch: list[dict]) -> int:
    response = client.send_message_batch(QueueUrl=url, Entries=batch)
    if response.get("Failed"):
        raise RuntimeError(f"SQS refused messages: {response['Failed']}")
    return len(batch)


def _shallow_first(received: list[dict]) -> list[tuple[dict, RecomputeMessage | BadMessageError]]:
    """A received batch in processing order: bad bodies first (they block their catalog), then
    ancestors before descendants, so a descendant's message is usually stale by its turn (any
    order gives the same state; this one does the least work)."""
    parsed: list[tuple[dict, RecomputeMessage | BadMessageError]] = []
    for raw in received:
        try:
            parsed.append((raw, RecomputeMessage.from_json(raw["Body"])))
        except CatalogGraphError as exc:  # BadMessageError, or a malformed node id
            parsed.append((raw, BadMessageError(exc.item_id, str(exc))))

    def depth(item) -> int:
        message = item[1]
        return -1 if isinstance(message, BadMessageError) else message.node_id.count("/")

    return sorted(parsed, key=depth)


@dataclass
class ConsumeResult:
    received: int = 0
    recomputed: int = 0
    skipped_stale: int = 0
    nodes_written: int = 0
    round_trips: int = 0
    failed: list[str] = field(default_factory=list)  # left on the queue (redelivery / DLQ)


def consume(
    client,
    url: str,
    store: GraphStore,
    sink: DerivedSink | None = None,
    max_messages: int = 100,
    wait_seconds: int = 1,
    visibility_timeout: int = 300,
    attempts: int = 3,
) -> ConsumeResult:
    """Receive batches (up to 10 per call, ``max_messages`` in all); recompute each message,
    ancestors first, and delete it only after its commit.

    A message that fails (bad body, unknown node, repeated conflicts) is left on the queue, and
    so are the rest of its catalog's messages in this batch (they come back with it; FIFO keeps
    the group waiting meanwhile). SQS's redrive policy moves poison messages to a DLQ.
    """
    result = ConsumeResult()
    blocked_groups: set[str] = set()
    while result.received < max_messages:
        response = client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, max_messages - result.received),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility_timeout,
            AttributeNames=["MessageGroupId"],
        )
        received = response.get("Messages", [])
        if not received:
            break
        result.received += len(received)
        for raw, message in _shallow_first(received):
            group = raw.get("Attributes", {}).get("MessageGroupId", "")
            if group in blocked_groups:
                result.failed.append(raw["MessageId"])
                continue
            try:
                if isinstance(message, BadMessageError):
                    raise message
                outcome = process_with_retry(store, message, sink, attempts)
            except (BadMessageError, CatalogGraphError) as exc:
                log.error("recompute message %s failed and stays queued: %s", raw["MessageId"], exc)
                result.failed.append(raw["MessageId"])
                blocked_groups.add(group)
                continue
            client.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
            result.round_trips += outcome.round_trips
            result.nodes_written += outcome.nodes_written
            if outcome.skipped:
                result.skipped_stale += 1
            else:
                result.recomputed += 1
    return result

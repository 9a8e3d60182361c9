"""SQS FIFO transport for recompute messages: one message group per catalog, collision-free
deduplication ids, and a consumer that deletes a message only after its recompute committed.

Failures are sorted in two kinds:

* **non-retryable** (a body that is not a message, a node that does not exist, DynamoDB refusing
  an item): the message is sent to the dead-letter queue with the error as attributes and
  deleted, and the rest of its catalog goes on — it would fail the same way forever;
* **retryable** (lost races after the retries, throttling): the message stays queued and so do
  the rest of its catalog's messages in the batch (they come back in order); the queue's redrive
  policy moves a message that keeps failing to the same dead-letter queue.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from trend.catalog_graph.dynamo import NonRetryableWriteError
from trend.catalog_graph.messages import BadMessageError, RecomputeMessage
from trend.catalog_graph.model import CatalogGraphError, InvalidIdError, NodeNotFoundError
from trend.catalog_graph.recompute import DerivedSink, process_with_retry
from trend.catalog_graph.store import GraphStore

log = logging.getLogger(__name__)

QUEUE_URL_ENV = "CATALOG_QUEUE_URL"
DLQ_URL_ENV = "CATALOG_DLQ_URL"
DEFAULT_QUEUE_NAME = "catalog-graph-recompute.fifo"
MAX_RECEIVES = 5  # redrive policy: deliveries before SQS moves a message to the DLQ
NON_RETRYABLE = (BadMessageError, NodeNotFoundError, InvalidIdError, NonRetryableWriteError)


def dlq_name(name: str) -> str:
    return name.removesuffix(".fifo") + "-dlq.fifo"


def ensure_queue(client, name: str = DEFAULT_QUEUE_NAME) -> str:
    """Create the FIFO queue and its dead-letter queue (redrive after MAX_RECEIVES) if needed
    (tests, demo); returns the queue's URL."""
    if not name.endswith(".fifo"):
        raise ValueError(f"queue {name!r}: FIFO queue names end with .fifo")
    dlq_url = client.create_queue(QueueName=dlq_name(name), Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{MAX_RECEIVES}"}}'
    return client.create_queue(QueueName=name, Attributes={"FifoQueue": "true", "RedrivePolicy": redrive})["QueueUrl"]


def queue_url(client) -> str:
    return os.environ.get(QUEUE_URL_ENV) or client.get_queue_url(QueueName=DEFAULT_QUEUE_NAME)["QueueUrl"]


def dlq_url_for(client, url: str) -> str | None:
    """``CATALOG_DLQ_URL``, else the queue's ``-dlq.fifo`` twin; None when there is none."""
    if os.environ.get(DLQ_URL_ENV):
        return os.environ[DLQ_URL_ENV]
    try:
        return client.get_queue_url(QueueName=dlq_name(url.rsplit("/", 1)[-1]))["QueueUrl"]
    except client.exceptions.QueueDoesNotExist:
        return None


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
                "MessageDeduplicationId": msg.message_id,
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


def _shallow_first(received: list[dict]) -> list[tuple[dict, object]]:
    """A received batch in processing order: bad bodies first, then catalogs before categories
    and shallower nodes first, so a descendant's message is usually stale by its turn (any
    order gives the same state; this one does the least work)."""
    parsed: list[tuple[dict, object]] = []
    for raw in received:
        try:
            parsed.append((raw, RecomputeMessage.from_json(raw["Body"])))
        except CatalogGraphError as exc:  # BadMessageError, or a malformed node id
            parsed.append((raw, BadMessageError(exc.item_id, str(exc))))

    def depth(item) -> tuple:
        message = item[1]
        if isinstance(message, BadMessageError):
            return (-1, 0)
        return (0 if message.node_id.startswith("catalogNode_") else 1, message.version)

    return sorted(parsed, key=depth)


@dataclass
class ConsumeResult:
    received: int = 0
    recomputed: int = 0
    skipped_stale: int = 0
    nodes_written: int = 0
    round_trips: int = 0
    follow_ups: int = 0
    failed: list[str] = field(default_factory=list)  # left on the queue (redelivery / redrive)
    dead_lettered: list[str] = field(default_factory=list)  # moved to the DLQ with the error


def dead_letter(client, dlq_url: str, raw: dict, error: Exception) -> None:
    """Move a message to the DLQ with its error; then the caller deletes the original."""
    group = raw.get("Attributes", {}).get("MessageGroupId", "unknown")
    client.send_message(
        QueueUrl=dlq_url,
        MessageBody=raw["Body"],
        MessageGroupId=group,
        MessageDeduplicationId=hashlib.sha256(raw["MessageId"].encode()).hexdigest(),
        MessageAttributes={
            "error": {"DataType": "String", "StringValue": str(error)[:1000]},
            "errorType": {"DataType": "String", "StringValue": type(error).__name__},
            "sourceMessageId": {"DataType": "String", "StringValue": raw["MessageId"]},
        },
    )


def consume(
    client,
    url: str,
    store: GraphStore,
    sink: DerivedSink | None = None,
    max_messages: int = 100,
    wait_seconds: int = 1,
    visibility_timeout: int = 300,
    attempts: int = 3,
    max_nodes: int | None = None,
    dlq_url: str | None = None,
) -> ConsumeResult:
    """Receive batches (up to 10 per call, ``max_messages`` in all); recompute each message,
    catalogs and shallow nodes first, and delete it only after its commit. A recompute cut by
    ``max_nodes`` publishes its follow-ups to the same group before it writes."""
    result = ConsumeResult()
    blocked_groups: set[str] = set()
    dlq_url = dlq_url or dlq_url_for(client, url)
    if dlq_url is None:
        log.warning("no dead-letter queue for %s: messages that cannot succeed stay queued", url)
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
            _handle(client, url, dlq_url, store, sink, raw, message, result, blocked_groups, attempts, max_nodes)
    return result


def _handle(client, url, dlq_url, store, sink, raw, message, result, blocked_groups, attempts, max_nodes) -> None:
    group = raw.get("Attributes", {}).get("MessageGroupId", "")
    if group in blocked_groups:
        result.failed.append(raw["MessageId"])
        return
    try:
        if isinstance(message, BadMessageError):
            raise message
        outcome = process_with_retry(
            store, message, sink, attempts, max_nodes, publish=lambda msgs: publish(client, url, msgs)
        )
    except NON_RETRYABLE as exc:
        if dlq_url is None:  # nowhere to put it: leave it to the queue's redrive policy
            log.error("recompute message %s cannot succeed and stays queued (no DLQ): %s", raw["MessageId"], exc)
            result.failed.append(raw["MessageId"])
            return
        log.error("recompute message %s cannot succeed, dead-lettered: %s", raw["MessageId"], exc)
        dead_letter(client, dlq_url, raw, exc)
        client.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
        result.dead_lettered.append(raw["MessageId"])
        return
    except CatalogGraphError as exc:
        log.error("recompute message %s failed and stays queued: %s", raw["MessageId"], exc)
        result.failed.append(raw["MessageId"])
        blocked_groups.add(group)
        return
    client.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])
    result.round_trips += outcome.round_trips
    result.nodes_written += outcome.nodes_written
    result.follow_ups += len(outcome.follow_ups)
    if outcome.skipped:
        result.skipped_stale += 1
    else:
        result.recomputed += 1

"""Event source mappings, locally: the table stream to its function, and SQS queues to workers.

Both follow Lambda's rules where they matter for correctness: batches of BatchSize, FilterCriteria,
partial batch failures (ReportBatchItemFailures), retries, and the failure destination or DLQ.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from infra.lambda_events import sqs_record, stream_record
from infra.local import console
from infra.local.emulation import Stack
from infra.local.filters import parse_filters, passes, sqs_view
from infra.local.runtime import Runtime
from infra.local.template import REGION, EventSource

STREAM_POLL_SECONDS = 0.2
SHARD_REFRESH_SECONDS = 5.0
# Lambda waits the queue's visibility timeout before a failed message comes back; locally it
# comes back after this, so retries (and the move to the DLQ after maxReceiveCount) take seconds.
SQS_RETRY_VISIBILITY_SECONDS = 2


def _client(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def _reports_item_failures(props: dict[str, Any]) -> bool:
    return "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])


def failed_index(result: Any, ids: list[str], props: dict[str, Any]) -> int | None:
    """Index of the first record to retry, from a handler's answer; None when all succeeded.

    As in Lambda: batchItemFailures counts only with ReportBatchItemFailures, and an identifier
    that is empty or not in the batch fails the whole batch.
    """
    if not _reports_item_failures(props) or not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures") or []
    if not failures:
        return None
    positions = []
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not item or item not in ids:
            return 0
        positions.append(ids.index(item))
    return min(positions)


# ---------------------------------------------------------------------------------------- stream


class StreamPoller(threading.Thread):
    """Reads every shard of a table stream and invokes the function, in order, per shard.

    The poller keeps the last sequence number it has handled per shard and opens a fresh
    iterator after it on every poll, instead of following NextShardIterator: moto used to replace
    a table's object (and so its stream) when it cancelled a transaction, and an iterator of the
    old object never saw another record (`transactions.py` now keeps the object). Reading after
    the last sequence number seen neither misses nor repeats a record, whatever moto does.
    """

    def __init__(self, runtime: Runtime, stack: Stack, source: EventSource, stop: threading.Event) -> None:
        super().__init__(name=f"stream-{source.function}", daemon=True)
        self.runtime = runtime
        self.stack = stack
        self.stop = stop
        self.function = source.function
        self.props = stack.resolver.resolve(source.properties)
        self.stream_arn = str(self.props["Stream"])
        self.batch_size = int(self.props.get("BatchSize", 100))
        self.max_retries = int(self.props.get("MaximumRetryAttempts", -1))  # -1: until the record expires
        self.bisect = bool(self.props.get("BisectBatchOnFunctionError", False))
        self.patterns = parse_filters(self.props.get("FilterCriteria"))
        self.position = str(self.props.get("StartingPosition", "TRIM_HORIZON"))
        self.enabled = self.props.get("Enabled", True) not in (False, "false")
        self.streams = _client("dynamodbstreams")
        self.checkpoints: dict[str, str | None] = {}  # shard -> last sequence number handled (None: none yet)

    def run(self) -> None:
        last_refresh = 0.0
        while self.enabled and not self.stop.is_set():
            busy = False
            try:
                if time.monotonic() - last_refresh > SHARD_REFRESH_SECONDS:
                    self._refresh_shards()
                    last_refresh = time.monotonic()
                for shard_id in list(self.checkpoints):
                    if self.stop.is_set():
                        break
                    busy = self.poll(shard_id) or busy
            except Exception as exc:
                if self.stop.is_set():
                    return
                console.error(f"stream poller for {self.function} failed; retrying", exc)
                self.stop.wait(1.0)
            if not busy:
                self.stop.wait(STREAM_POLL_SECONDS)

    def poll(self, shard_id: str) -> bool:
        """Delivers the shard's records after its checkpoint; True when there were some."""
        raw = self._read(shard_id, self.checkpoints[shard_id])
        if not raw:
            return False
        self.deliver(shard_id, [stream_record(r, self.stream_arn) for r in raw])
        self.checkpoints[shard_id] = raw[-1]["dynamodb"]["SequenceNumber"]
        return True

    def _read(self, shard_id: str, after: str | None) -> list[dict[str, Any]]:
        args: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
        if after is None:
            args["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            args.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        iterator = self.streams.get_shard_iterator(**args)["ShardIterator"]
        return list(self.streams.get_records(ShardIterator=iterator, Limit=1000).get("Records", []))

    def _refresh_shards(self) -> None:
        desc = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        first = not self.checkpoints
        for shard in desc.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self.checkpoints:
                continue
            # the first shards start where the mapping says; shards that appear later, at their start
            latest = first and self.position == "LATEST"
            self.checkpoints[shard_id] = self._end_of(shard_id) if latest else None

    def _end_of(self, shard_id: str) -> str | None:
        """The shard's last sequence number now (LATEST), None when it is empty."""
        last: str | None = None
        while records := self._read(shard_id, last):
            last = records[-1]["dynamodb"]["SequenceNumber"]
        return last

    def deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        pending = [r for r in records if passes(r, self.patterns)]
        attempts = 0
        size = self.batch_size
        while pending and not self.stop.is_set():
            batch = pending[:size]
            failed, raised = self._invoke(batch, attempts)
            if failed is None:
                pending = pending[len(batch) :]
                attempts, size = 0, self.batch_size
                continue
            pending = pending[failed:]  # the checkpoint moves past the records that succeeded
            if raised and self.bisect and len(batch) > 1:
                size = max(1, len(batch) // 2)  # a split does not count as a retry
                continue
            attempts += 1
            if 0 <= self.max_retries < attempts:
                dropped = pending[: len(batch) - failed]
                self._on_failure(shard_id, dropped, attempts)
                pending = pending[len(dropped) :]
                attempts, size = 0, self.batch_size
                continue
            self.stop.wait(min(0.2 * 2**attempts, 5.0))

    def _invoke(self, batch: list[dict[str, Any]], attempt: int) -> tuple[int | None, bool]:
        ids = [r["dynamodb"].get("SequenceNumber", "") for r in batch]
        names = ",".join(sorted({r.get("eventName", "?") for r in batch}))
        try:
            result = self.runtime.invoke(self.function, {"Records": batch})
        except Exception as exc:
            what = f"{self.function} raised on {len(batch)} stream record(s) (attempt {attempt + 1})"
            console.failure(what, exc, traceback=attempt == 0)
            return 0, True
        failed = failed_index(result, ids, self.props)
        if failed is None:
            console.line("relay", f"{self.function} <- {len(batch)} stream record(s) ({names}) ok")
        else:
            console.line(
                "relay",
                f"{self.function} <- {len(batch)} stream record(s): failed from #{failed}; will retry",
            )
        return failed, False

    def _on_failure(self, shard_id: str, dropped: list[dict[str, Any]], attempts: int) -> None:
        destination = ((self.props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        seqs = [r["dynamodb"].get("SequenceNumber") for r in dropped]
        arrivals = [r["dynamodb"].get("ApproximateCreationDateTime") for r in dropped]
        when = lambda t: datetime.fromtimestamp(t or 0, UTC).isoformat()  # noqa: E731
        info = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.runtime.context(self.function).invoked_function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": seqs[0],
                "endSequenceNumber": seqs[-1],
                "approximateArrivalOfFirstRecord": when(arrivals[0]),
                "approximateArrivalOfLastRecord": when(arrivals[-1]),
                "batchSize": len(dropped),
                "streamArn": self.stream_arn,
            },
        }
        where = "dropped (no OnFailure destination)"
        try:
            if isinstance(destination, str) and destination.startswith("arn:aws:sqs:"):
                _client("sqs").send_message(
                    QueueUrl=self.stack.queue_url(destination), MessageBody=json.dumps(info)
                )
                where = f"sent to {destination.rsplit(':', 1)[-1]}"
            elif isinstance(destination, str) and destination.startswith("arn:aws:sns:"):
                _client("sns").publish(TopicArn=destination, Message=json.dumps(info))
                where = f"published to {destination.rsplit(':', 1)[-1]}"
        except Exception as exc:
            console.error(f"could not write the failure record for {self.function}", exc)
        console.warn(
            f"{self.function}: gave up on {len(dropped)} stream record(s) "
            f"after {attempts - 1} retries; {where}"
        )


# ---------------------------------------------------------------------------------------- SQS


class SqsWorker(threading.Thread):
    """Long-polls a queue and invokes the function with each batch."""

    def __init__(self, runtime: Runtime, stack: Stack, source: EventSource, stop: threading.Event) -> None:
        super().__init__(name=f"sqs-{source.function}", daemon=True)
        self.runtime = runtime
        self.stop = stop
        self.function = source.function
        self.props = stack.resolver.resolve(source.properties)
        self.queue_arn = str(self.props["Queue"])
        self.queue_url = stack.queue_url(self.queue_arn)
        self.queue_name = self.queue_arn.rsplit(":", 1)[-1]
        self.batch_size = int(self.props.get("BatchSize", 10))
        self.patterns = parse_filters(self.props.get("FilterCriteria"))
        self.enabled = self.props.get("Enabled", True) not in (False, "false")
        self.sqs = _client("sqs")
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"])
        redrive = json.loads(attributes.get("Attributes", {}).get("RedrivePolicy") or "{}")
        self.max_receives = int(redrive.get("maxReceiveCount", 0))
        self.dlq_name = str(redrive.get("deadLetterTargetArn", "")).rsplit(":", 1)[-1]

    def run(self) -> None:
        while self.enabled and not self.stop.is_set():
            try:
                messages = self._receive()
                if messages:
                    self.process(messages)
            except Exception as exc:
                if self.stop.is_set():
                    return
                console.error(f"SQS worker for {self.function} failed; retrying", exc)
                self.stop.wait(1.0)

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        wait = 1
        while len(messages) < self.batch_size and not self.stop.is_set():
            resp = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            got = resp.get("Messages", [])
            messages.extend(got)
            if len(got) < 10:
                break
            wait = 0  # a batch bigger than 10 takes several receives
        return messages

    def process(self, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(m, self.queue_arn) for m in messages]
        wanted = [r for r in records if passes(sqs_view(r), self.patterns)]
        filtered_out = [r for r in records if r not in wanted]  # Lambda deletes these unprocessed
        self._delete_messages(filtered_out)
        if not wanted:
            return
        ids = [r["messageId"] for r in wanted]
        try:
            result = self.runtime.invoke(self.function, {"Records": wanted})
            failed_ids = self._failed_ids(result, ids)
        except Exception as exc:
            first = any(r["attributes"].get("ApproximateReceiveCount") == "1" for r in wanted)
            console.failure(
                f"{self.function} raised on {len(wanted)} message(s) from {self.queue_name}", exc, first
            )
            failed_ids = set(ids)
        done = [r for r in wanted if r["messageId"] not in failed_ids]
        failed = [r for r in wanted if r["messageId"] in failed_ids]
        self._delete_messages(done)
        if failed:
            self._retry_soon(failed)
            counts = [int(r["attributes"].get("ApproximateReceiveCount", "0")) for r in failed]
            console.line(
                "sqs",
                f"{self.function} <- {len(wanted)} message(s) from {self.queue_name}: {len(failed)} failed "
                f"(receive count {','.join(map(str, counts))}); back in {SQS_RETRY_VISIBILITY_SECONDS} s",
            )
            spent = sum(1 for c in counts if self.max_receives and c >= self.max_receives)
            if spent:
                console.warn(
                    f"{spent} message(s) reached maxReceiveCount {self.max_receives}: "
                    f"they move to {self.dlq_name} at the next receive"
                )
        else:
            console.line("sqs", f"{self.function} <- {len(wanted)} message(s) from {self.queue_name} ok")

    def _failed_ids(self, result: Any, ids: list[str]) -> set[str]:
        if not _reports_item_failures(self.props) or not isinstance(result, dict):
            return set()
        found: set[str] = set()
        for failure in result.get("batchItemFailures") or []:
            item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not item or item not in ids:
                return set(ids)  # an unknown identifier fails the whole batch, as in Lambda
            found.add(str(item))
        return found

    def _delete_messages(self, records: list[dict[str, Any]]) -> None:
        for i in range(0, len(records), 10):
            chunk = records[i : i + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(chunk)],
            )

    def _retry_soon(self, records: list[dict[str, Any]]) -> None:
        for i in range(0, len(records), 10):
            chunk = records[i : i + 10]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(n),
                        "ReceiptHandle": r["receiptHandle"],
                        "VisibilityTimeout": SQS_RETRY_VISIBILITY_SECONDS,
                    }
                    for n, r in enumerate(chunk)
                ],
            )

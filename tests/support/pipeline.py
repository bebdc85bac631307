"""Driving the event pipeline step by step in-process: stream -> relay -> SNS -> SQS -> worker."""

from __future__ import annotations

from typing import Any

from infra.apps import function_module
from infra.lambda_events import LambdaContext, sqs_event, stream_event
from tests.support.stack import Stack


class Pipeline:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        streams = stack.client("dynamodbstreams")
        arn = stack.client("dynamodb").describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]
        self.stream_arn = arn
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.iterators = [
            streams.get_shard_iterator(StreamArn=arn, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
            for s in shards
        ]

    def stream_records(self) -> list[dict[str, Any]]:
        """Every record not read yet: GetRecords answers at most 1,000 a call, so each shard is read
        until a call brings nothing (like Lambda's poller, which keeps reading)."""
        streams = self.stack.client("dynamodbstreams")
        records: list[dict[str, Any]] = []
        next_iterators = []
        for first in self.iterators:
            it = first
            while True:
                resp = streams.get_records(ShardIterator=it)
                records += resp["Records"]
                it = resp.get("NextShardIterator", it)
                if not resp["Records"]:
                    break
            next_iterators.append(it)
        self.iterators = next_iterators
        return records

    def relay(self, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        records = self.stream_records() if records is None else records
        module = function_module("functions/relay/")
        return dict(module.lambda_handler(stream_event(records, self.stream_arn), LambdaContext("relay")))

    def work(self, queue: str, code_uri: str, visibility: int | None = None) -> tuple[int, dict[str, Any]]:
        """One batch from `queue` to the worker; deletes what succeeded, like Lambda's poller."""
        messages = self.stack.receive(queue, visibility=visibility)
        if not messages:
            return 0, {"batchItemFailures": []}
        module = function_module(code_uri)
        try:
            result = module.lambda_handler(
                sqs_event(messages, self.stack.queue_arns[queue]), LambdaContext(code_uri, timeout_seconds=30)
            )
        except Exception:
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        sqs = self.stack.client("sqs")
        for m in messages:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=self.stack.queues[queue], ReceiptHandle=m["ReceiptHandle"])
        return len(messages), dict(result)

    def mail(self) -> tuple[int, dict[str, Any]]:
        return self.work("MailQueue", "functions/workers/mailer/")

    def run(self) -> None:
        """Everything pending, through every step."""
        self.relay()
        while self.mail()[0]:
            pass

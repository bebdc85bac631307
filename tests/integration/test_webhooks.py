"""Outgoing webhooks end to end in-process: register, deliver (verified with `standardwebhooks`),
retries on the schedule with a frozen clock, redelivery of failed messages, rotation, stats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from keel.core import clock
from keel.webhooks import repo, schedule
from tests.support.actors import Actor, login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.mail import last_mail_to
from tests.support.people import member
from tests.support.pipeline import Pipeline
from tests.support.receiver import Drip, Receiver


@pytest.fixture
def local_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOW_LOCAL_TARGETS", "true")


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    r = Receiver().start()
    yield r
    r.stop()


def deliver(api: Api, pipe: Pipeline) -> None:
    """Relay -> fan-out -> delivery, until nothing is left to do."""
    pipe.relay()
    while pipe.work("WebhookFanoutQueue", "functions/workers/webhook_fanout/")[0]:
        pass
    while pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")[0]:
        pass


def sweep(pipe: Pipeline) -> int:
    from infra.apps import function_module
    from infra.lambda_events import LambdaContext

    out = function_module("functions/schedules/webhook_retries/").lambda_handler({}, LambdaContext("retries"))
    while pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")[0]:
        pass
    return int(out["queued"])


def register(api: Api, boss: Actor, url: str, **extra: Any) -> dict[str, Any]:
    reply = api.post(
        "/webhooks/endpoints", {"url": url, "event_types": ["user.*"], **extra}, token=boss.token
    )
    assert reply.status == 201, reply.text
    return dict(reply.json)


def test_register_deliver_verify_retry_redeliver_rotate_and_stats(
    api: Api, local_targets: None, receiver: Receiver
) -> None:
    clock.freeze()
    pipe = Pipeline(api.stack)
    root = super_admin(api)
    boss = tenant_admin(api, root)
    pipe.run()
    ep = register(api, boss, receiver.url, description="CRM sync", headers={"X-Env": "test"})
    secret = ep["secret"]
    assert secret.startswith("whsec_")
    listed = api.get("/webhooks/endpoints", token=boss.token).json["items"]
    assert [e["endpoint_id"] for e in listed] == [ep["endpoint_id"]]
    assert "secret" not in listed[0]
    assert secret not in api.stack.scan().__repr__()  # sealed at rest

    # a user is created: one verified delivery
    ph = member(api, boss, "ph@acme.example.com")
    deliver(api, pipe)
    assert len(receiver.got) == 1
    got = receiver.got[0]
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "user.created"
    assert payload["data"]["user_id"] == ph.user_id
    assert set(payload) == {"type", "timestamp", "data"}
    assert got.headers["x-env"] == "test"
    first_id = got.headers["webhook-id"]
    log = api.get("/webhooks/deliveries", token=boss.token).json["items"]
    assert [(d["delivery_id"], d["status"], d["attempts"]) for d in log] == [(first_id, "succeeded", 1)]
    detail = api.get(f"/webhooks/deliveries/{first_id}", token=boss.token).json
    assert detail["attempt_log"][0]["status_code"] == 200
    assert detail["attempt_log"][0]["response_body"] == '{"ok": true}'
    assert secret not in str(detail)

    # the receiver fails: retries are scheduled on Svix's schedule (frozen clock), then `failed`
    receiver.status = 503
    member(api, boss, "cash@acme.example.com", role="cashier")
    deliver(api, pipe)
    retrying = api.get("/webhooks/deliveries", token=boss.token, query={"status": "retrying"}).json["items"]
    assert len(retrying) == 1
    failing_id = retrying[0]["delivery_id"]
    waits = []
    for n in range(1, schedule.MAX_ATTEMPTS):
        item = repo.for_tenant(boss.tenant_id).message(failing_id) or {}
        assert item.get("status") == "retrying", item
        last = clock.parse(item["attempt_log"][-1]["at"])
        due = clock.parse(item["due_at"])
        waits.append((due - last).total_seconds())
        assert sweep(pipe) == 0  # not due yet
        clock.freeze(due + timedelta(minutes=6))  # past its queue's grace: the sweep takes it
        assert sweep(pipe) == 1, n
    for wait, base in zip(waits, schedule.DELAYS, strict=True):
        assert base * 0.9 <= wait <= base * 1.1
    boss = login(api, boss.email)  # 27 hours later
    final = api.get(f"/webhooks/deliveries/{failing_id}", token=boss.token).json
    assert final["status"] == "failed"
    assert len(final["attempt_log"]) == schedule.MAX_ATTEMPTS
    assert {a["error"] for a in final["attempt_log"]} == {"HTTP 503"}
    assert len({r.headers["webhook-id"] for r in receiver.got[1:]}) == 1  # stable across retries
    # the admins were told when it started failing
    pipe.run()
    assert any(m.subject == "Webhook endpoint failing" for m in api.stack.sent_mail())

    # back up: retry every failed message of the range; each arrives once
    receiver.status = 200
    before = len(receiver.got)
    since = clock.iso(clock.now() - timedelta(days=3))
    queued = api.post(
        "/webhooks/deliveries/retry-failed", {"since": since, "until": clock.iso()}, token=boss.token
    )
    assert queued.status == 200, queued.text
    assert queued.json["delivery_ids"] == [failing_id]
    while pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")[0]:
        pass
    assert sweep(pipe) == 0
    assert [r.headers["webhook-id"] for r in receiver.got[before:]] == [failing_id]
    assert api.get(f"/webhooks/deliveries/{failing_id}", token=boss.token).json["status"] == "succeeded"

    # rotation: both signatures during the grace period, each verifies (receivers check the
    # timestamp against their own clock: back to the real time)
    clock.unfreeze()
    boss = login(api, boss.email)
    rotated = api.post(f"/webhooks/endpoints/{ep['endpoint_id']}/rotate-secret", {}, token=boss.token)
    assert rotated.status == 200, rotated.text
    new_secret = rotated.json["secret"]
    api.patch(f"/users/{ph.user_id}", {"name": "Renamed"}, token=boss.token)
    deliver(api, pipe)
    last = receiver.got[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new_secret).verify(last.body, last.headers)["type"] == "user.updated"
    assert Webhook(secret).verify(last.body, last.headers)["type"] == "user.updated"

    # a test send answers synchronously
    test = api.post(f"/webhooks/endpoints/{ep['endpoint_id']}/test", {}, token=boss.token)
    assert test.status == 200, test.text
    assert (test.json["success"], test.json["status_code"]) == (True, 200)

    stats = api.get("/webhooks/stats", token=boss.token, query={"since": since}).json["endpoints"]
    assert len(stats) == 1
    s = stats[0]
    assert (s["messages"], s["succeeded"], s["failed"]) == (4, 4, 0)
    assert s["retry_rate"] == 0.25
    assert s["top_errors"] == [{"error": "HTTP 503", "count": 8}]
    assert s["p95_latency_ms"] is not None


def test_410_disables_and_retry_after_is_honoured(api: Api, local_targets: None, receiver: Receiver) -> None:
    clock.freeze()
    pipe = Pipeline(api.stack)
    root = super_admin(api)
    boss = tenant_admin(api, root)
    pipe.run()
    ep = register(api, boss, receiver.url)
    receiver.status, receiver.reply_headers = 429, {"Retry-After": "3600"}
    member(api, boss, "a@acme.example.com")
    deliver(api, pipe)
    item = api.get("/webhooks/deliveries", token=boss.token).json["items"][0]
    wait = (clock.parse(item["next_attempt_at"]) - clock.now()).total_seconds()
    assert 3599 <= wait <= 3600 * 1.01
    receiver.status, receiver.reply_headers = 410, {}
    clock.advance(hours=1, minutes=1)
    assert sweep(pipe) == 1
    boss = login(api, boss.email)
    got = api.get("/webhooks/endpoints", token=boss.token).json["items"][0]
    assert (got["active"], got["disabled_reason"]) == (False, "gone")
    assert api.get(f"/webhooks/deliveries/{item['delivery_id']}", token=boss.token).json["status"] == "failed"
    again = api.post(f"/webhooks/deliveries/{item['delivery_id']}/retry", token=boss.token)
    assert (again.status, again.code) == (409, "SAAS_042")
    assert (
        api.patch(f"/webhooks/endpoints/{ep['endpoint_id']}", {"active": True}, token=boss.token).status
        == 200
    )
    receiver.status = 200
    assert api.post(f"/webhooks/deliveries/{item['delivery_id']}/retry", token=boss.token).status == 200
    while pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")[0]:
        pass
    assert (
        api.get(f"/webhooks/deliveries/{item['delivery_id']}", token=boss.token).json["status"] == "succeeded"
    )


def test_bad_input_permissions_and_other_tenants(
    api: Api, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    real = socket.getaddrinfo
    fake = {"hooks.acme.example.com": "93.184.215.14", "inside.acme.example.com": "10.1.2.3"}

    def resolve(host: str, *args: Any, **kw: Any) -> Any:
        if host in fake:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (fake[host], 443))]
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    ok = {"url": "https://hooks.acme.example.com/in", "event_types": ["user.created"]}
    before = api.stack.scan()
    cases = [
        ({"url": "http://hooks.acme.example.com/in"}, "url"),
        ({"url": receiver.url}, "url"),  # loopback, outside local development
        ({"url": "https://inside.acme.example.com/in"}, "url"),
        ({"url": "https://169.254.169.254/latest"}, "url"),
        ({"url": "https://[fd00:ec2::254]/latest"}, "url"),
        ({"url": "https://[::ffff:127.0.0.1]/x"}, "url"),
        ({"event_types": ["user.teleported"]}, "event_types"),
        ({"timeout_seconds": 31}, "timeout_seconds"),
        ({"headers": {"webhook-id": "x"}}, "headers"),
    ]
    for change, field in cases:
        reply = api.post("/webhooks/endpoints", {**ok, **change}, token=boss.token)
        assert (reply.status, reply.code) == (422, "API_007"), (change, reply.text)
        assert reply.json["error"]["details"][0]["field"].startswith(field), reply.text
    assert api.post("/webhooks/endpoints", ok, token=cashier.token).code == "SAAS_001"
    assert api.get("/webhooks/endpoints", token=cashier.token).code == "SAAS_001"
    assert api.get("/webhooks/stats", token=cashier.token).code == "SAAS_001"
    assert (
        api.post("/webhooks/endpoints", ok, token=other.token, query={"tenant_id": boss.tenant_id}).status
        == 404
    )
    assert api.stack.scan() == before
    created = api.post("/webhooks/endpoints", ok, token=boss.token)
    assert created.status == 201, created.text
    ep_id = created.json["endpoint_id"]
    for method, path, body in [
        ("PATCH", f"/webhooks/endpoints/{ep_id}", {"description": "mine"}),
        ("DELETE", f"/webhooks/endpoints/{ep_id}", None),
        ("POST", f"/webhooks/endpoints/{ep_id}/rotate-secret", {}),
        ("POST", f"/webhooks/endpoints/{ep_id}/test", {}),
        ("GET", "/webhooks/stats", None),
    ]:
        query = {"endpoint_id": ep_id} if method == "GET" else None
        reply = api.call(method, path, json_body=body, token=other.token, query=query)
        assert (reply.status, reply.code) == (404, "SAAS_040"), (path, reply.text)
    assert api.get("/webhooks/endpoints", token=other.token).json["items"] == []
    assert api.get("/webhooks/deliveries/msg_x", token=other.token).code == "SAAS_041"
    types = api.get("/webhooks/event-types", token=boss.token).json["items"]
    names = [t["name"] for t in types]
    assert "user.created" in names
    assert not any(n.startswith("webhook.") for n in names)
    assert types[names.index("user.created")]["schema"]["properties"]["user_id"]


def test_an_endpoint_failing_for_five_days_is_disabled_with_warnings(
    api: Api, local_targets: None, receiver: Receiver
) -> None:
    clock.freeze()
    pipe = Pipeline(api.stack)
    root = super_admin(api)
    boss = tenant_admin(api, root)
    pipe.run()
    restyled = {  # the tenant restyles the last alert (a reserved system template)
        "name": "system.webhook_endpoint_disabled",
        "channel": "email",
        "subject": "Webhook {{ endpoint_id }} switched off at {{ tenant.name }}",
        "body": "{{ user.firstName }}: endpoint {{ endpoint_id }} is off ({{ reason }}).",
    }
    assert api.post("/notifications/templates", restyled, token=boss.token).status == 201
    ep_id = register(api, boss, receiver.url)["endpoint_id"]
    receiver.status = 500
    subjects = []
    for n, later in enumerate([0, 4.1, 1.0]):  # failing since day 0; day 4.1; day 5.1
        clock.advance(days=later)
        boss = login(api, boss.email)
        member(api, boss, f"u{n}@acme.example.com", role="cashier")
        deliver(api, pipe)
        pipe.run()
        subjects.append(sorted(m.subject for m in api.stack.sent_mail() if m.subject.startswith("Webhook")))
    assert subjects == [
        ["Webhook endpoint failing"],
        ["Webhook endpoint failing", "Webhook endpoint to be disabled"],
        sorted(
            [
                f"Webhook {ep_id} switched off at Acme Pharmacy",
                "Webhook endpoint failing",
                "Webhook endpoint to be disabled",
            ]
        ),
    ]
    assert last_mail_to(api, boss.email).body == f"Boss: endpoint {ep_id} is off (failing)."
    got = api.get("/webhooks/endpoints", token=boss.token).json["items"][0]
    assert (got["active"], got["disabled_reason"]) == (False, "failing")


def test_manual_retries_keep_the_last_attempts_and_the_count(
    api: Api, local_targets: None, receiver: Receiver
) -> None:
    """Retries append attempts; the item keeps the last `ATTEMPTS_KEPT` (a ring), so it cannot grow
    towards DynamoDB's 400 KB; the count and the order stay right."""
    from keel.webhooks import messages

    pipe = Pipeline(api.stack)
    boss = tenant_admin(api, super_admin(api))
    pipe.run()
    register(api, boss, receiver.url)
    member(api, boss, "ph@acme.example.com")
    deliver(api, pipe)
    (first,) = api.get("/webhooks/deliveries", token=boss.token).json["items"]
    did = first["delivery_id"]
    total = messages.ATTEMPTS_KEPT + 5
    for _ in range(total - 1):
        assert api.post(f"/webhooks/deliveries/{did}/retry", token=boss.token).status == 200
        assert pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")[0] == 1
    assert len(receiver.got) == total
    detail = api.get(f"/webhooks/deliveries/{did}", token=boss.token).json
    assert detail["attempts"] == total
    assert [a["attempt"] for a in detail["attempt_log"]] == list(range(6, total + 1))
    item = repo.for_tenant(boss.tenant_id).message(did) or {}
    assert len(item["attempt_log"]) == messages.ATTEMPTS_KEPT
    assert api.get("/webhooks/deliveries", token=boss.token).json["items"][0]["attempts"] == total


def test_each_attempt_records_what_caused_it(api: Api, local_targets: None, receiver: Receiver) -> None:
    """`auto` for a delivery and its scheduled retries (also from a job queued before jobs carried
    their trigger), `manual` for an operator's retry (one message or a range, and when its job was
    lost and the sweep queues it again), `test` for a test send."""
    import json

    clock.freeze()
    pipe = Pipeline(api.stack)
    boss = tenant_admin(api, super_admin(api))
    pipe.run()
    ep = register(api, boss, receiver.url)
    sqs, url = api.stack.client("sqs"), api.stack.queues["WebhookDeliveryQueue"]

    def work() -> None:
        while pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")[0]:
            pass

    def triggers(did: str) -> list[str]:
        detail = api.get(f"/webhooks/deliveries/{did}", token=boss.token).json
        return [a["trigger"] for a in detail["attempt_log"]]

    # the first try and a scheduled retry (taken by the sweep): auto
    receiver.status = 503
    member(api, boss, "ph@acme.example.com")
    deliver(api, pipe)
    (first,) = api.get("/webhooks/deliveries", token=boss.token).json["items"]
    did = first["delivery_id"]
    clock.freeze(clock.parse(first["next_attempt_at"]) + timedelta(minutes=6))
    assert sweep(pipe) == 1
    # a job queued before jobs carried their trigger (`{t, d, a}`): auto
    receiver.status = 200
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"t": boss.tenant_id, "d": did, "a": 3}))
    work()
    assert triggers(did) == ["auto"] * 3

    # an operator's retry: manual
    boss = login(api, boss.email)
    assert api.post(f"/webhooks/deliveries/{did}/retry", token=boss.token).status == 200
    work()
    # ... also when its job is lost and the sweep queues it again
    assert api.post(f"/webhooks/deliveries/{did}/retry", token=boss.token).status == 200
    sqs.purge_queue(QueueUrl=url)
    clock.advance(minutes=3)
    assert sweep(pipe) == 1
    # ... and a range's retry (a manual attempt that fails is not retried on the schedule)
    receiver.status = 503
    assert api.post(f"/webhooks/deliveries/{did}/retry", token=boss.token).status == 200
    work()
    receiver.status = 200
    since = clock.iso(clock.now() - timedelta(hours=1))
    queued = api.post(
        "/webhooks/deliveries/retry-failed", {"since": since, "until": clock.iso()}, token=boss.token
    )
    assert queued.json["delivery_ids"] == [did], queued.text
    work()
    assert triggers(did) == ["auto"] * 3 + ["manual"] * 4
    assert len(receiver.got) == 7
    assert api.get(f"/webhooks/deliveries/{did}", token=boss.token).json["status"] == "succeeded"

    # a test send: test
    test = api.post(f"/webhooks/endpoints/{ep['endpoint_id']}/test", {}, token=boss.token).json
    assert triggers(test["delivery_id"]) == ["test"]


def test_a_timing_out_endpoint_moves_to_the_slow_lane_and_the_others_keep_flowing(
    api: Api, local_targets: None, receiver: Receiver
) -> None:
    """An endpoint that times out is marked slow: its retries and its next messages go to
    WebhookSlowQueue without being tried in the main lane, while another endpoint's are delivered."""
    from keel.webhooks import queue

    slow = Receiver(delay=2.5).start()
    try:
        pipe = Pipeline(api.stack)
        boss = tenant_admin(api, super_admin(api))
        pipe.run()
        dead = register(api, boss, slow.url, timeout_seconds=1)
        register(api, boss, receiver.url)
        member(api, boss, "a@acme.example.com")
        deliver(api, pipe)  # the slow endpoint times out, here, once per message of this batch
        tried = len(slow.got)
        assert tried >= 1
        assert len(receiver.got) == tried  # the same events, delivered to the healthy endpoint
        member(api, boss, "b@acme.example.com")
        member(api, boss, "c@acme.example.com")
        deliver(api, pipe)
        log = api.get("/webhooks/deliveries", token=boss.token, query={"limit": 100}).json["items"]
        healthy = [d for d in log if d["endpoint_id"] != dead["endpoint_id"]]
        to_dead = [d for d in log if d["endpoint_id"] == dead["endpoint_id"]]
        assert len(healthy) == len(to_dead) > tried
        assert {(d["status"], d["attempts"]) for d in healthy} == {("succeeded", 1)}  # kept flowing
        assert len(receiver.got) == len(healthy)
        assert len(slow.got) == tried  # the main lane did not try the slow endpoint again
        assert sorted(d["attempts"] for d in to_dead) == [0] * (len(to_dead) - tried) + [1] * tried
        assert {d["last_error"] for d in to_dead if d["attempts"]} == {"timeout"}
        lane = api.stack.receive("WebhookSlowQueue") + api.stack.receive("WebhookSlowQueue")
        jobs = [queue.Job.parse(m["Body"]) for m in lane]
        dead_ulid = dead["endpoint_id"].split("_", 1)[1]
        assert len(jobs) >= len(to_dead) - tried  # forwarded untried (the retries wait their delay)
        assert all(j.delivery_id.endswith(dead_ulid) for j in jobs)
    finally:
        slow.stop()


def test_the_per_endpoint_rate_limit_puts_the_excess_back(
    api: Api, local_targets: None, receiver: Receiver
) -> None:
    """rate_limit = 1 message a second: of one batch, one is sent; the others go back to the queue
    untried (no attempt recorded) and are delivered in the next seconds."""
    import time

    pipe = Pipeline(api.stack)
    boss = tenant_admin(api, super_admin(api))
    pipe.run()
    register(api, boss, receiver.url, rate_limit=1)
    for n in range(2):
        member(api, boss, f"m{n}@acme.example.com")
    pipe.relay()
    while pipe.work("WebhookFanoutQueue", "functions/workers/webhook_fanout/")[0]:
        pass
    log = api.get("/webhooks/deliveries", token=boss.token).json["items"]
    total = len(log)
    assert total >= 2
    taken, _ = pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")
    assert taken >= total  # one batch (an event relayed twice gives a duplicate job, tried once)
    assert len(receiver.got) == 1
    log = api.get("/webhooks/deliveries", token=boss.token).json["items"]
    assert sorted(d["attempts"] for d in log) == [0] * (total - 1) + [1]
    deadline = time.monotonic() + 15
    while len(receiver.got) < total and time.monotonic() < deadline:
        time.sleep(0.3)
        pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")
    assert len(receiver.got) == total
    log = api.get("/webhooks/deliveries", token=boss.token).json["items"]
    assert sorted((d["status"], d["attempts"]) for d in log) == [("succeeded", 1)] * total


def deliver_as_a_fresh_instance(api: Api, queue_name: str, messages: list[dict[str, Any]]) -> None:
    """One delivery run on `messages`, as another Lambda instance would make it: the worker's
    in-process state (every module-level table: endpoint cache, gates) starts empty; the lane is
    the queue's."""
    from infra.apps import function_module
    from infra.lambda_events import LambdaContext, sqs_event
    from keel.webhooks import delivery, endpoints, queue

    app = function_module("functions/workers/webhook_delivery/")
    for module in (delivery, endpoints):
        for name, value in vars(module).items():
            if name.startswith("_") and not name.startswith("__") and isinstance(value, dict):
                value.clear()
    lane = app.LANE
    app.LANE = queue.SLOW if queue_name == queue.SLOW else queue.FAST  # WEBHOOK_LANE on the function
    try:
        event = sqs_event(messages, api.stack.queue_arns[queue_name])
        result = app.lambda_handler(event, LambdaContext("webhook_delivery", timeout_seconds=30))
    finally:
        app.LANE = lane
    assert result == {"batchItemFailures": []}
    sqs = api.stack.client("sqs")
    for m in messages:
        sqs.delete_message(QueueUrl=api.stack.queues[queue_name], ReceiptHandle=m["ReceiptHandle"])


def everything_in(api: Api, queue_name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while batch := api.stack.receive(queue_name):
        found += batch
    return found


def test_the_rate_limit_holds_across_worker_instances_and_both_lanes(
    api: Api, local_targets: None, receiver: Receiver
) -> None:
    """rate_limit = 3 and two worker instances in the same second (the main lane's with 2 jobs,
    then the slow lane's with the rest, each with fresh in-process state): 3 are sent between
    them, the second instance taking only the 1 left (one write refused, one granted). The others
    go back to the queue untried (no attempt recorded) with a 1 s delay and are delivered in the
    next seconds, never more than 3 in one. The counter item expires a minute later."""
    import time

    from keel.store import keys, table
    from keel.webhooks import queue
    from tests.support.calls import dynamodb_calls

    pipe = Pipeline(api.stack)
    boss = tenant_admin(api, super_admin(api))
    pipe.run()
    ep = register(api, boss, receiver.url, rate_limit=3)
    for n in range(5):
        member(api, boss, f"r{n}@acme.example.com")
    pipe.relay()
    while pipe.work("WebhookFanoutQueue", "functions/workers/webhook_fanout/")[0]:
        pass
    total = len(api.get("/webhooks/deliveries", token=boss.token, query={"limit": 100}).json["items"])
    assert total >= 5
    jobs = list({m["Body"]: m for m in everything_in(api, queue.FAST)}.values())  # one per job
    assert len(jobs) == total
    clock.freeze()
    second = clock.epoch()
    with dynamodb_calls() as first_calls:
        deliver_as_a_fresh_instance(api, queue.FAST, jobs[:2])
    assert len(receiver.got) == 2
    sqs = api.stack.client("sqs")
    for m in jobs[2:]:  # these jobs forwarded to the slow lane (as for an endpoint marked slow)
        sqs.send_message(QueueUrl=api.stack.queues[queue.SLOW], MessageBody=m["Body"])
        sqs.delete_message(QueueUrl=api.stack.queues[queue.FAST], ReceiptHandle=m["ReceiptHandle"])
    slow_jobs = everything_in(api, queue.SLOW)
    assert len(slow_jobs) == total - 2
    with dynamodb_calls() as second_calls:
        deliver_as_a_fresh_instance(api, queue.SLOW, slow_jobs)
    assert len(receiver.got) == 3  # not 2 + 3: the limit is the endpoint's, not an instance's
    assert first_calls.count("UpdateItem") == 1  # the batch's 2 sends taken in one write
    assert second_calls.count("UpdateItem") == 2  # 3 asked, refused (2 taken); the 1 left taken
    log = api.get("/webhooks/deliveries", token=boss.token, query={"limit": 100}).json["items"]
    assert sorted(d["attempts"] for d in log) == [0] * (total - 3) + [1] * 3
    counters = list(table.query_all(keys.webhook_rate_pk(boss.tenant_id, ep["endpoint_id"]), consistent=True))
    assert [(c["SK"], c["taken"], c["expires_at"]) for c in counters] == [(str(second), 3, second + 60)]
    put_back = everything_in(api, queue.FAST) + everything_in(api, queue.SLOW)
    assert put_back == []  # delayed by a second, not yet visible
    deadline = time.monotonic() + 20
    while len(receiver.got) < total and time.monotonic() < deadline:
        clock.advance(seconds=1)
        time.sleep(1.05)
        before = len(receiver.got)
        for lane in (queue.FAST, queue.SLOW):
            if waiting := everything_in(api, lane):
                deliver_as_a_fresh_instance(api, lane, waiting[:2])
                if waiting[2:]:
                    deliver_as_a_fresh_instance(api, lane, waiting[2:])
        assert len(receiver.got) - before <= 3
    assert len(receiver.got) == total
    log = api.get("/webhooks/deliveries", token=boss.token, query={"limit": 100}).json["items"]
    assert sorted((d["status"], d["attempts"]) for d in log) == [("succeeded", 1)] * total
    counters = list(table.query_all(keys.webhook_rate_pk(boss.tenant_id, ep["endpoint_id"]), consistent=True))
    assert all(c["taken"] <= 3 and c["expires_at"] == int(c["SK"]) + 60 for c in counters)
    assert sum(c["taken"] for c in counters) == total


def test_an_endpoint_without_a_rate_limit_makes_no_counter_write(
    api: Api, local_targets: None, receiver: Receiver
) -> None:
    """No `rate_limit`: a delivery batch makes no UpdateItem and no counter item exists."""
    from keel.store import keys, table
    from tests.support.calls import dynamodb_calls

    pipe = Pipeline(api.stack)
    boss = tenant_admin(api, super_admin(api))
    pipe.run()
    ep = register(api, boss, receiver.url)
    for n in range(3):
        member(api, boss, f"u{n}@acme.example.com")
    pipe.relay()
    while pipe.work("WebhookFanoutQueue", "functions/workers/webhook_fanout/")[0]:
        pass
    with dynamodb_calls() as calls:
        taken, _ = pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")
    assert taken >= 3
    assert len(receiver.got) >= 3
    assert "UpdateItem" not in calls
    assert calls.count("TransactWriteItems") == 1
    counters = table.query_all(keys.webhook_rate_pk(boss.tenant_id, ep["endpoint_id"]), consistent=True)
    assert list(counters) == []


@pytest.mark.parametrize("headers_too", [False, True], ids=["dripping-body", "dripping-headers"])
def test_a_dripping_answer_is_cut_at_the_attempts_deadline(
    local_targets: None, receiver: Receiver, headers_too: bool
) -> None:
    """A receiver answering a byte every 0.2 s (never long enough for a socket timeout) for 15 s:
    the attempt ends at its 2 s deadline as a timeout, and the pooled session still works."""
    import time

    from keel.webhooks import sender

    drip = Drip(headers_too=headers_too).start()
    try:
        began = time.monotonic()
        outcome = sender.post(drip.url, "{}", {}, 2)
        took = time.monotonic() - began
        assert (outcome.timed_out, outcome.error, outcome.status_code, outcome.ok) == (
            True,
            "timeout",
            None,
            False,
        )
        assert 1.9 <= took < 2 + 3, took
        assert sender.post(receiver.url, "{}", {}, 2).ok
        assert sender.post(drip.url, "{}", {}, 1).timed_out  # again, on a new connection
    finally:
        drip.stop()


def test_a_dripping_endpoint_holds_the_worker_no_longer_than_its_timeout(
    api: Api, local_targets: None
) -> None:
    """Through the delivery worker: the attempt is recorded as a timeout near the endpoint's 1 s
    timeout (the receiver would drip for 15 s), and retried in the slow lane like any timeout."""
    import time

    drip = Drip().start()
    try:
        pipe = Pipeline(api.stack)
        boss = tenant_admin(api, super_admin(api))
        pipe.run()
        ep = register(api, boss, drip.url, timeout_seconds=1)
        member(api, boss, "a@acme.example.com")
        pipe.relay()
        while pipe.work("WebhookFanoutQueue", "functions/workers/webhook_fanout/")[0]:
            pass
        began = time.monotonic()
        assert pipe.work("WebhookDeliveryQueue", "functions/workers/webhook_delivery/")[0] >= 1
        took = time.monotonic() - began
        assert took < 1 + 3, took
        assert drip.got == 1
        (item,) = api.get("/webhooks/deliveries", token=boss.token).json["items"]
        assert (item["status"], item["attempts"], item["last_error"]) == ("retrying", 1, "timeout")
        detail = api.get(f"/webhooks/deliveries/{item['delivery_id']}", token=boss.token).json
        (attempt,) = detail["attempt_log"]
        assert (attempt["status_code"], attempt["error"], attempt["trigger"]) == (None, "timeout", "auto")
        assert 900 <= attempt["latency_ms"] < 4000
        delayed = api.stack.client("sqs").get_queue_attributes(
            QueueUrl=api.stack.queues["WebhookSlowQueue"],
            AttributeNames=["ApproximateNumberOfMessagesDelayed"],
        )
        assert delayed["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"  # retried like any timeout
        got = repo.for_tenant(boss.tenant_id).endpoint(ep["endpoint_id"]) or {}
        assert got.get("slow_until")
    finally:
        drip.stop()

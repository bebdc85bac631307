"""What each function's first invocation is, and the AWS answers it gets: recorded once against moto
(in-process, the test harness's stack) and replayed to the Lambda-like child by the stub endpoint.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

RELAY_BATCH = 100  # the template's BatchSize for the stream

# function -> its first request: method, path (formatted with the caller's ids), query, body
API_CASES: dict[str, tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = {
    "AuditFunction": ("GET", "/audit-logs", {"limit": 50}, None),
    "AuthFunction": ("POST", "/auth/login", None, {"email": "{email}", "password": "{password}"}),
    "ImpersonationFunction": ("GET", "/impersonations", None, None),
    "InvitationsFunction": ("GET", "/invitations", None, None),
    "PagesFunction": ("GET", "/activate", {"token": "{link_token}"}, None),  # the page, not the form
    "PrivacyFunction": ("GET", "/deletion-log", None, None),
    "RolesFunction": ("GET", "/roles", None, None),
    "SecurityFunction": ("GET", "/security/password-policy", None, None),
    "SystemFunction": ("GET", "/error-codes", None, None),
    "TenantsFunction": ("GET", "/tenants/{tenant_id}", None, None),
    "UsersFunction": ("GET", "/users", {"limit": 50}, None),
    "FlagsFunction": ("GET", "/flag-evaluations", None, None),  # flags (issue 9): evaluate for the caller
    "NotificationsFunction": ("GET", "/notifications/inbox", None, None),  # the caller's inbox
    "CheckoutFunction": ("GET", "/events", {"tenant_id": "{tenant_id}"}, None),  # as the super admin
    "WebhooksFunction": ("GET", "/webhooks/endpoints", None, None),
    "PaymentsFunction": ("GET", "/payments", None, None),
}
SCHEDULES = (
    "LiftSuspensionsFunction",
    "OutboxSweepFunction",
    "NotifyDueFunction",
    "ReleaseHoldsFunction",
    "FlagChangesFunction",
    "WebhookRetriesFunction",
    "ReconcileSubscriptionsFunction",
)
AS_SUPER_ADMIN = {"CheckoutFunction"}  # a pharmacy's admin has no events:read
STRIPE_WHSEC = "whsec_bench_0123456789abcdef"  # the app secret's Stripe webhook secret while recording


@dataclass
class Scenario:
    function: str  # the template's logical id
    label: str  # what the first invocation does
    event: dict[str, Any]
    responses: dict[str, dict[str, dict[str, Any]]]
    moto_calls: list[str] = field(default_factory=list)  # the calls it made against moto
    records: int = 0  # stream/queue records in the event
    # the event made again for each run (a signed webhook expires: Stripe tolerates 5 minutes)
    fresh: Callable[[], dict[str, Any]] | None = None


@dataclass
class Recorded:
    scenarios: dict[str, Scenario]
    env: dict[str, str]  # the stack's names (table, topic, secret...) the recordings refer to


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _clone_outbox_record(record: dict[str, Any], n: int) -> dict[str, Any]:
    """The same outbox INSERT with its own event id (and key), as the n-th record of a batch."""
    out = copy.deepcopy(record)
    image = out["dynamodb"]["NewImage"]
    event_id = f"{image['event']['M']['id']['S']}{n:04d}"
    image["event"]["M"]["id"]["S"] = event_id
    for key in ("PK", "GSI1SK"):
        if key in image:
            image[key]["S"] = image[key]["S"].replace(
                record["dynamodb"]["NewImage"]["event"]["M"]["id"]["S"], event_id
            )
    out["eventID"] = f"{out.get('eventID', 'e')}-{n}"
    out["dynamodb"]["SequenceNumber"] = f"{int(out['dynamodb'].get('SequenceNumber', '1')) + n}"
    return out


def record() -> Recorded:
    """Boots moto with the template's resources, makes a tenant with an admin, records each case."""
    os.environ.update(
        {
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "KeelBench",
        }
    )
    from infra.apps import function_module
    from infra.benchkit.stub import recording
    from infra.lambda_events import LambdaContext, http_event, scheduled_event, sqs_event, stream_event
    from keel.core import aws, ids
    from tests.support.actors import PASSWORD, super_admin, tenant_admin
    from tests.support.checkout import event_body
    from tests.support.http import Api, handler_of, router
    from tests.support.pipeline import Pipeline
    from tests.support.stack import moto_stack

    scenarios: dict[str, Scenario] = {}
    with moto_stack() as stack:
        _stripe_secret(stack)
        api = Api(stack)
        root = super_admin(api)
        boss = tenant_admin(api, root)
        names = {
            "tenant_id": boss.tenant_id,
            "email": boss.email,
            "password": PASSWORD,
            "link_token": ids.token(32),  # well formed; opening a link's page reads nothing
        }
        clients = [aws.client(s) for s in ("dynamodb", "sns", "ses", "secretsmanager", "sqs")]
        api.post("/events", event_body("bench-city"), token=root.token, query={"tenant_id": boss.tenant_id})

        def run(function: str, code_uri: str, handler: str, event: dict[str, Any]) -> tuple[Any, Any]:
            module = function_module(code_uri, handler)
            with recording(clients) as rec:
                out = module.lambda_handler(copy.deepcopy(event), LambdaContext(function))
            return out, rec

        for function, (method, path, query, body) in API_CASES.items():
            target = _fill(path, names)
            found = router().match(method, target)
            assert found is not None, (function, target)
            assert found.route.function == function, (function, target)
            qs = urlencode(_fill(query or {}, names))
            headers = {
                "content-type": "application/json",
                "authorization": f"Bearer {(root if function in AS_SUPER_ADMIN else boss).token}",
            }
            event = http_event(
                method,
                f"{target}?{qs}" if qs else target,
                route_key=found.route.route_key,
                path_parameters=found.path_parameters,
                headers=headers,
                body=json.dumps(_fill(body, names)) if body is not None else None,
                source_ip="203.0.113.10",
            )
            out, rec = run(function, *handler_of(function), event)
            assert out["statusCode"] == 200, (function, out)
            label = f"{method} {path.format(tenant_id='{tenant_id}', email='', password='')}"
            scenarios[function] = Scenario(function, label, event, rec.responses, rec.calls)

        # the event pipeline: a second tenant's outbox record -> relay; its mail message -> mailer
        reply = api.post(
            "/tenants",
            {"name": "Bench Co", "admin": {"email": "b@bench.example.com", "name": "B"}},
            token=root.token,
        )
        assert reply.status == 201, reply.text
        pipe = Pipeline(stack)
        records = [
            r
            for r in pipe.stream_records()
            if r.get("eventName") == "INSERT"
            and r["dynamodb"]["NewImage"].get("entity", {}).get("S") == "outbox"
        ]
        assert records, "no outbox record on the stream"
        out, rec = run(
            "RelayFunction", *handler_of("RelayFunction"), stream_event(records[-1:], pipe.stream_arn)
        )
        assert out == {"batchItemFailures": []}, out
        batch = [_clone_outbox_record(records[-1], n) for n in range(RELAY_BATCH)]
        scenarios["RelayFunction"] = Scenario(
            "RelayFunction",
            f"stream batch of {RELAY_BATCH} outbox records",
            stream_event(batch, pipe.stream_arn),
            rec.responses,
            rec.calls,
            records=RELAY_BATCH,
        )
        messages = stack.receive("MailQueue")
        assert len(messages) == 1, messages
        event = sqs_event(messages, stack.queue_arns["MailQueue"])
        out, rec = run("MailerFunction", *handler_of("MailerFunction"), event)
        assert out == {"batchItemFailures": []}, out
        scenarios["MailerFunction"] = Scenario(
            "MailerFunction", "one tenant.created message", event, rec.responses, rec.calls, records=1
        )
        _second_wave(stack, api, root, boss, pipe, run, scenarios)
        for function in SCHEDULES:
            event = scheduled_event(f"arn:aws:events:us-east-1:123456789012:rule/{function}")
            out, rec = run(function, *handler_of(function), event)
            scenarios[function] = Scenario(
                function, "scheduled run, nothing due", event, rec.responses, rec.calls
            )
        # the app secret as a fresh process reads it (this one has it cached since its first use)
        with recording(clients) as rec:
            aws.client("secretsmanager").get_secret_value(SecretId=os.environ["APP_SECRET_ARN"])
        for scenario in scenarios.values():
            for operation, answers in rec.responses.items():
                scenario.responses.setdefault(operation, answers)
        env = {
            k: os.environ[k]
            for k in (
                "TABLE_NAME",
                "EVENT_TOPIC_ARN",
                "MAIL_FROM",
                "APP_SECRET_ARN",
                "PUBLIC_BASE_URL",
                "QUEUE_URLS",
            )
        } | {"ALLOW_LOCAL_TARGETS": "true"}  # the webhook receiver is on this machine
    return Recorded(scenarios, env)


def _stripe_secret(stack: Any) -> None:
    sm = stack.client("secretsmanager")
    arn = next(s["ARN"] for s in sm.list_secrets()["SecretList"])
    secret = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
    sm.put_secret_value(
        SecretId=arn, SecretString=json.dumps(secret | {"stripe_webhook_secret": STRIPE_WHSEC})
    )


_RECEIVERS: list[Any] = []  # the webhook receiver lives as long as the bench (its URL is in the recordings)


def _stripe_event() -> dict[str, Any]:
    """`POST /webhooks/stripe`: a payment_intent.succeeded Stripe signed now (for no known payment)."""
    import hashlib
    import hmac
    import time

    from infra.lambda_events import http_event

    now = int(time.time())
    payload = json.dumps(
        {
            "id": "evt_bench_0001",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": now,
            "livemode": False,
            "data": {
                "object": {
                    "id": "pi_bench_0001",
                    "object": "payment_intent",
                    "amount": 1000,
                    "currency": "usd",
                    "status": "succeeded",
                    "metadata": {},
                }
            },
        }
    )
    sig = hmac.new(STRIPE_WHSEC.encode(), f"{now}.{payload}".encode(), hashlib.sha256).hexdigest()
    return http_event(
        "POST",
        "/webhooks/stripe",
        route_key="POST /webhooks/stripe",
        headers={"content-type": "application/json", "stripe-signature": f"t={now},v1={sig}"},
        body=payload,
        source_ip="203.0.113.10",
    )


def _second_wave(
    stack: Any,
    api: Any,
    root: Any,
    boss: Any,
    pipe: Any,
    run: Callable[..., Any],
    scenarios: dict[str, Scenario],
) -> None:
    """The functions of issues 9-13's workers, each fed what the API makes: a webhook endpoint on a
    local receiver and two invitations (-> fan-out -> delivery jobs), a bulk in-app send (-> the
    notifier -> a recipients batch), a Stripe webhook (-> a stored gateway event)."""
    from infra.lambda_events import sqs_event
    from tests.support.http import handler_of
    from tests.support.receiver import Receiver

    del root
    os.environ["ALLOW_LOCAL_TARGETS"] = "true"
    receiver = Receiver().start()
    _RECEIVERS.append(receiver)
    reply = api.post("/webhooks/endpoints", {"url": receiver.url, "event_types": ["*"]}, token=boss.token)
    assert reply.status == 201, reply.text
    for n in range(2):
        reply = api.post(
            "/invitations",
            {"email": f"bench{n}@bench.example.com", "role": "pharmacist", "name": f"Bench {n}"},
            token=boss.token,
        )
        assert reply.status == 201, reply.text
    reply = api.post(
        "/notifications/bulk",
        {"audience": {"kind": "all"}, "channels": ["in_app"], "subject": "Bench", "body": "Bench"},
        token=boss.token,
    )
    assert reply.status in (201, 202), reply.text
    out, rec = run("GatewayWebhooksFunction", *handler_of("GatewayWebhooksFunction"), _stripe_event())
    assert out["statusCode"] == 200, out
    scenarios["GatewayWebhooksFunction"] = Scenario(
        "GatewayWebhooksFunction",
        "POST /webhooks/stripe (signed)",
        _stripe_event(),
        rec.responses,
        rec.calls,
        fresh=_stripe_event,
    )
    pipe.relay()

    def worker(function: str, queue: str, label: str, messages: list[dict[str, Any]]) -> None:
        event = sqs_event(messages, stack.queue_arns[queue])
        out, rec = run(function, *handler_of(function), event)
        assert out == {"batchItemFailures": []}, (function, out)
        scenarios[function] = Scenario(
            function, label, event, rec.responses, rec.calls, records=len(messages)
        )

    def body_type(m: dict[str, Any]) -> str:
        return str(json.loads(m["Body"]).get("type", ""))

    fanned = stack.receive("WebhookFanoutQueue")
    assert len(fanned) >= 2, fanned
    worker("WebhookFanoutFunction", "WebhookFanoutQueue", "one domain event, one endpoint", fanned[:1])
    run(
        "WebhookFanoutFunction",
        *handler_of("WebhookFanoutFunction"),
        sqs_event(fanned[1:], stack.queue_arns["WebhookFanoutQueue"]),
    )
    jobs = stack.receive("WebhookDeliveryQueue") + stack.receive("WebhookDeliveryQueue")
    assert len(jobs) >= 2, [json.loads(m["Body"]) for m in jobs] + [body_type(m) for m in fanned]
    worker(
        "WebhookDeliveryFunction", "WebhookDeliveryQueue", "one signed delivery (local receiver)", jobs[:1]
    )
    from keel.webhooks import endpoints

    endpoints.clear()  # a fresh process reads its endpoint
    worker("WebhookSlowDeliveryFunction", "WebhookSlowQueue", "one signed delivery (slow lane)", jobs[1:2])

    notes = stack.receive("NotifyQueue") + stack.receive("NotifyQueue")
    bulk = [m for m in notes if body_type(m) == "notification.bulk_requested"]
    other = [m for m in notes if body_type(m) != "notification.bulk_requested"]
    assert bulk, [body_type(m) for m in notes]
    assert other, [body_type(m) for m in notes]
    worker("NotifierFunction", "NotifyQueue", f"one {body_type(other[0])} (rules)", other[:1])
    run(
        "NotifierFunction",
        *handler_of("NotifierFunction"),
        sqs_event(bulk[:1], stack.queue_arns["NotifyQueue"]),
    )
    batches = stack.receive("NotifyBatchQueue")
    assert batches, "no recipients batch"
    worker("NotifyBatchesFunction", "NotifyBatchQueue", "one recipients batch (in-app)", batches[:1])

    received = stack.receive("GatewayEventsQueue")
    assert received, "no gateway event"
    worker("GatewayEventsFunction", "GatewayEventsQueue", "one stored Stripe event", received[:1])

    # a sale alert for an event the tenant does not have (one read, then nothing to send)
    from keel.core import clock, ids

    sold = {
        "id": ids.new_id("evt"),
        "type": "checkout.sold",
        "tenant_id": boss.tenant_id,
        "occurred_at": clock.iso(clock.now()),
        "data": {
            "tenant_id": boss.tenant_id,
            "city_id": "bench",
            "tier": "standard",
            "quantity": 1,
            "registration_id": "reg_bench",
        },
    }
    message = {
        "MessageId": ids.new_id("msg"),
        "ReceiptHandle": "bench",
        "Body": json.dumps(sold),
        "Attributes": {},
        "MessageAttributes": {},
        "MD5OfBody": "",
    }
    worker("CheckoutNotifierFunction", "CheckoutNotifyQueue", "checkout.sold for an unknown event", [message])

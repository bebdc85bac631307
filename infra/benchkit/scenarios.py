"""What each function's first invocation is, and the AWS answers it gets: recorded once against moto
(in-process, the test harness's stack) and replayed to the Lambda-like child by the stub endpoint.
"""

from __future__ import annotations

import copy
import json
import os
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
    "PaymentsFunction": ("GET", "/payments", {"limit": 50}, None),  # payments (issue 12)
    "CheckoutFunction": ("GET", "/public/{tenant_id}/events/bench-city/inventory", None, None),  # issue 13
}


@dataclass
class Scenario:
    function: str  # the template's logical id
    label: str  # what the first invocation does
    event: dict[str, Any]
    responses: dict[str, dict[str, dict[str, Any]]]
    moto_calls: list[str] = field(default_factory=list)  # the calls it made against moto
    records: int = 0  # stream/queue records in the event


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
            headers = {"content-type": "application/json", "authorization": f"Bearer {boss.token}"}
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
        for function in ("LiftSuspensionsFunction", "OutboxSweepFunction"):
            event = scheduled_event(f"arn:aws:events:us-east-1:123456789012:rule/{function}")
            out, rec = run(function, *handler_of(function), event)
            scenarios[function] = Scenario(
                function, "scheduled run, nothing due", event, rec.responses, rec.calls
            )
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
        }
    return Recorded(scenarios, env)

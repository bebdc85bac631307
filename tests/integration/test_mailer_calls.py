"""The mailer's AWS calls per message: the user, their current link and the mail's template are
read in one call."""

from __future__ import annotations

from keel.core import aws
from tests.support.actors import super_admin
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.pipeline import Pipeline


def test_one_welcome_mail_costs_five_aws_calls(api: Api) -> None:
    root = super_admin(api)
    reply = api.post(
        "/tenants",
        {"name": "Calls Co", "admin": {"email": "c@calls.example.com", "name": "C"}},
        token=root.token,
    )
    assert reply.status == 201
    pipe = Pipeline(api.stack)
    pipe.relay()
    calls: list[str] = []
    for service in ("dynamodb", "ses", "secretsmanager", "sns", "sqs"):
        aws.client(service).meta.events.register(
            "before-call.*.*", lambda model, **_: calls.append(model.name), unique_id="count-mailer"
        )
    handled, result = pipe.mail()
    assert (handled, result) == (1, {"batchItemFailures": []})
    # idempotency in-progress; the user, their link pointer, the tenant's and the platform's
    # `system.activation` templates (none: the built-in text) and the user's preferences (their
    # locale); the link + audit; the mail; idempotency done
    assert calls == [
        "PutItem",
        "BatchGetItem",
        "TransactWriteItems",
        "SendEmail",
        "UpdateItem",
    ]
    assert mailed_token(api, "c@calls.example.com")

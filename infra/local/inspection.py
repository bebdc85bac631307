"""What the local stack has sent, served cheaply for tests and scripts: `GET /_local/mail` (every
e-mail SES sent) and `GET /_local/published` (the id of every event published to the topic).

moto's `/moto-api/data.json` holds the same, but it serialises every model of every service
(each DynamoDB item included) on each call, which grows with the session and starves the stack
when polled. These read moto's backends directly (moto runs in the stack's process). Local only:
the paths are not routes of the template, and AWS has no such thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from infra.local.mail import describe
from infra.local.template import ACCOUNT_ID, REGION

PREFIX = "/_local/"


def sent_mail() -> list[dict[str, Any]]:
    from moto.ses.models import ses_backends

    return [describe(m) for m in list(ses_backends[ACCOUNT_ID][REGION].sent_messages)]


def published_event_ids() -> list[str]:
    from moto.sns.models import sns_backends

    ids = []
    for topic in list(sns_backends[ACCOUNT_ID][REGION].topics.values()):
        for sent in list(topic.sent_notifications):
            try:
                ids.append(json.loads(sent[1])["id"])
            except (ValueError, KeyError, TypeError, IndexError):
                continue
    return ids


VIEWS: dict[str, Callable[[], Any]] = {"mail": sent_mail, "published": published_event_ids}


def view(path: str) -> bytes | None:
    """The JSON body of `GET /_local/<name>`, or None when the path is not one of them."""
    found = VIEWS.get(path.removeprefix(PREFIX)) if path.startswith(PREFIX) else None
    return json.dumps(found()).encode() if found else None

"""Reading what SES recorded, as the recipient would: the last mail to an address, its link token."""

from __future__ import annotations

import re
from typing import Any

from tests.support import secrets_watch
from tests.support.http import Api


def last_mail_to(api: Api, email: str) -> Any:
    for mail in reversed(api.stack.sent_mail()):
        if email in mail.destinations["ToAddresses"]:
            return mail
    raise AssertionError(f"no mail to {email}")


def mailed_token(api: Api, email: str, marker: str = "token=") -> str:
    """The token of the link in the last mail to `email` (registered as a secret for the log check)."""
    found = re.search(re.escape(marker) + r"([A-Za-z0-9_\-]+)", last_mail_to(api, email).body)
    assert found, "mail without a link"
    secrets_watch.register(found.group(1))
    return found.group(1)

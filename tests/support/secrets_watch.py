"""Every secret a test sends or receives, and every log line written meanwhile.

`Api.call` registers the values of sensitive fields (passwords, tokens, codes, TOTP keys, phone
numbers) of each request and reply; helpers that read codes from mail or SMS register those
too. An autouse fixture (tests/conftest.py) captures the Powertools logger's formatted output
and fails the test if any registered value appears in it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

SENSITIVE = {
    "password",
    "new_password",
    "current_password",
    "temporary_password",
    "token",
    "code",
    "challenge_token",
    "setup_token",
    "reset_token",
    "secret",
    "otpauth_uri",
    "backup_codes",
    "phone",
    "twilio_auth_token",
}

registered: set[str] = set()
lines: list[str] = []


def register(value: Any) -> None:
    if isinstance(value, str) and len(value) >= 6:
        registered.add(value)
    elif isinstance(value, list):
        for v in value:
            register(v)


def scan(data: Any) -> None:
    """Registers the values of sensitive keys anywhere in a JSON document."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k in SENSITIVE:
                register(v)
            scan(v)
    elif isinstance(data, list):
        for v in data:
            scan(v)


class Capture(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            lines.append(self.format(record))
        except Exception:
            lines.append(record.getMessage())


def leaks() -> list[str]:
    found = []
    for value in registered:
        pattern = re.compile(r"(?<![0-9A-Za-z])" + re.escape(value) + r"(?![0-9A-Za-z])")
        found += [f"{value[:4]}… in: {line[:200]}" for line in lines if pattern.search(line)]
    # a phone number in any form, even unregistered: + and 10-15 digits
    found += [f"phone number in: {line[:200]}" for line in lines if re.search(r"\+\d{10,15}\b", line)]
    return found


def reset() -> None:
    registered.clear()
    lines.clear()

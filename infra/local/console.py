"""One console for every thread of the local stack: short tagged lines, colour on a terminal."""

from __future__ import annotations

import sys
import threading
import time
import traceback as tb

_lock = threading.Lock()
_COLOURS = {
    "api": "36",
    "relay": "35",
    "sqs": "34",
    "schedule": "33",
    "mail": "32",
    "sms": "32",
    "whatsapp": "32",
    "push": "32",
    "warn": "33",
    "error": "31",
}


def _tty() -> bool:
    return sys.stdout.isatty()


def line(tag: str, message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    label = f"{tag:<8}"
    if _tty():
        label = f"\033[{_COLOURS.get(tag, '0')}m{label}\033[0m"
    with _lock:
        print(f"{stamp} {label} {message}", flush=True)


def say(message: str = "") -> None:
    with _lock:
        print(message, flush=True)


def warn(message: str) -> None:
    line("warn", message)


def error(message: str, exc: BaseException | None = None) -> None:
    line("error", message)
    if exc is not None:
        # an error raised in a function's instance carries the traceback from that process
        text = getattr(exc, "remote_traceback", "") or "".join(
            tb.format_exception(type(exc), exc, exc.__traceback__)
        )
        with _lock:
            print(text.rstrip(), file=sys.stdout, flush=True)


def failure(message: str, exc: BaseException, traceback: bool) -> None:
    """A failed invocation: with its traceback the first time, one line on retries."""
    if traceback:
        error(message, exc)
    else:
        first = (str(exc).strip().splitlines() or [""])[0]
        line("error", f"{message}: {type(exc).__name__}: {first}")

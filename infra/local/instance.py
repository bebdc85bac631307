"""One execution environment of a function: a process that imports the handler once and serves
invocations one at a time, as a Lambda sandbox does (`python -m infra.local.instance`).

The local runtime talks to it over two pipes with length-prefixed JSON frames (stdout and stderr
stay the console, for the handler's logs): the instance first answers `{"ready": true}` (or the
import error), then one `{"result": ...}` or `{"error": ...}` per `{"event", "context"}` it reads.
End of input ends it.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import struct
import sys
import traceback
import warnings
from typing import IO, Any

_HEADER = struct.Struct(">I")


def write_frame(out: IO[bytes], message: Any) -> None:
    data = json.dumps(message).encode()
    out.write(_HEADER.pack(len(data)) + data)
    out.flush()


def read_frame(source: IO[bytes]) -> Any:
    """The next message, or None at end of input."""
    header = source.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = source.read(size)
    if len(data) < size:
        return None
    return json.loads(data)


def describe(exc: BaseException) -> dict[str, str]:
    """An error as Lambda reports it (errorType, errorMessage) plus the formatted traceback."""
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


def serve(module: str, attribute: str, requests: IO[bytes], responses: IO[bytes]) -> int:
    from infra.apps import ensure_paths
    from infra.lambda_events import LambdaContext

    ensure_paths()
    try:
        handler = getattr(importlib.import_module(module), attribute)
        if not callable(handler):
            raise TypeError(f"{module}.{attribute} is not callable")
    except Exception as exc:
        write_frame(responses, {"error": describe(exc)})
        return 1
    write_frame(responses, {"ready": True})
    while (message := read_frame(requests)) is not None:
        try:
            result = handler(message["event"], LambdaContext(**message["context"]))
            json.dumps(result)  # what Lambda cannot serialise is an error (Runtime.MarshalError)
            reply: dict[str, Any] = {"result": result}
        except Exception as exc:
            reply = {"error": describe(exc)}
        write_frame(responses, reply)
    return 0


def main(argv: list[str]) -> int:
    module, attribute, request_fd, response_fd = argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the local stack stops its instances itself
    # Powertools warns on every invocation that adds no metric; metrics are off locally anyway
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with (
        os.fdopen(int(request_fd), "rb") as requests,
        os.fdopen(int(response_fd), "wb") as responses,
    ):
        return serve(module, attribute, requests, responses)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

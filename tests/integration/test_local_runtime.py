"""The local stack's runtime: isolated instances per function, run concurrently, cut off at Timeout.

A tiny handler (tests/support/slow_function.py) stands for a function; the gateway in front of it
is the one `make dev` serves.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.local.gateway import Gateway
from infra.local.runtime import InvocationError, InvocationTimeout, Runtime
from infra.local.template import FunctionSpec, Route

SLEEP = 1.0
CONCURRENT = 4


def _spec(timeout: int) -> FunctionSpec:
    return FunctionSpec(
        logical_id="Slow",
        code_uri="tests/support/",
        handler="slow_function.lambda_handler",
        timeout=timeout,
        memory=128,
        environment={},
        events=[],
    )


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    rt = Runtime({"Slow": _spec(timeout=2)}, "keel-test", {"Slow": {"POWERTOOLS_SERVICE_NAME": "slow"}})
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def gateway(runtime: Runtime) -> Iterator[Gateway]:
    gw = Gateway(0)
    gw.configure(runtime, [Route("GET", "/slow", "Slow")], None)
    gw.start()
    try:
        yield gw
    finally:
        gw.shutdown()


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _concurrently(url: str) -> tuple[float, list[tuple[int, Any]]]:
    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        replies = list(pool.map(_get, [url] * CONCURRENT))
    return time.monotonic() - started, replies


def test_concurrent_requests_run_at_once_in_separate_instances(gateway: Gateway) -> None:
    url = f"{gateway.url}/slow?sleep={SLEEP}"
    _concurrently(url)  # cold starts: the pool grows to CONCURRENT instances
    took, replies = _concurrently(url)  # warm
    assert [status for status, _ in replies] == [200] * CONCURRENT
    assert len({body["pid"] for _, body in replies}) == CONCURRENT  # one instance each
    assert took < SLEEP * 2, f"{CONCURRENT} requests of {SLEEP} s took {took:.2f} s: not concurrent"
    assert {body["service"] for _, body in replies} == {"slow"}  # the function's own environment
    assert {body["function"] for _, body in replies} == {"keel-test-Slow"}
    assert all(0 < body["remaining_ms"] <= 2000 for _, body in replies)


def test_an_instance_keeps_its_module_state_between_invocations(runtime: Runtime) -> None:
    first = json.loads(runtime.invoke("Slow", {})["body"])
    second = json.loads(runtime.invoke("Slow", {})["body"])
    assert second["pid"] == first["pid"]
    assert second["invocations"] == first["invocations"] + 1


def test_a_handler_error_comes_back_with_its_traceback_and_the_instance_stays(runtime: Runtime) -> None:
    before = json.loads(runtime.invoke("Slow", {})["body"])
    with pytest.raises(InvocationError, match="ValueError: asked to fail") as raised:
        runtime.invoke("Slow", {"fail": True})
    assert "slow_function.py" in raised.value.remote_traceback
    after = json.loads(runtime.invoke("Slow", {})["body"])
    assert after["pid"] == before["pid"]


def test_an_invocation_past_the_timeout_is_cut_off_and_its_instance_discarded(runtime: Runtime) -> None:
    before = json.loads(runtime.invoke("Slow", {})["body"])
    started = time.monotonic()
    with pytest.raises(InvocationTimeout):
        runtime.invoke("Slow", {"sleep": 10})
    assert time.monotonic() - started < 4  # the function's Timeout is 2 s, not the 10 s it asked for
    after = json.loads(runtime.invoke("Slow", {})["body"])
    assert after["pid"] != before["pid"]  # a new instance, cold
    assert after["invocations"] == 1


def test_the_gateway_answers_503_when_the_function_times_out(gateway: Gateway) -> None:
    status, body = _get(f"{gateway.url}/slow?sleep=10")
    assert status == 503
    assert body == {"message": "Service Unavailable"}


def test_a_client_that_closes_early_costs_one_line_and_no_traceback(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket
    import struct

    with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
        sock.sendall(b"GET /slow?sleep=0.5 HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    time.sleep(1.5)  # the gateway answers into the closed connection
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "closed the connection early" in out

"""Keel's flags read over HTTP by the OpenFeature Python SDK through its OFREP provider."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.client import Api, Mailbox, new_tenant, request

pytestmark = pytest.mark.e2e


def test_openfeature_sdk_reads_keel_flags_over_ofrep(
    http_api: Api, mailbox: Mailbox, local_stack: dict[str, Any]
) -> None:
    from openfeature import api as openfeature
    from openfeature.contrib.provider.ofrep import OFREPProvider
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.flag_evaluation import Reason

    root = local_stack["admin_token"]
    owner = new_tenant(http_api, mailbox, root)
    key = f"e2e-{uuid.uuid4().hex[:8]}"
    body = {
        "key": key,
        "name": "E2E",
        "category": "ui",
        "on": True,
        "targeting": {"rules": [{"tenants": [owner.tenant_id]}]},
    }
    assert http_api.post("/flags", body, token=root).status == 201

    openfeature.set_provider(
        OFREPProvider(http_api.base_url, headers_factory=lambda: {"Authorization": f"Bearer {owner.token}"})
    )
    client = openfeature.get_client()
    details = client.get_boolean_details(key, False, EvaluationContext(targeting_key=owner.user_id))
    assert (details.value, details.reason, details.variant) == (True, Reason.TARGETING_MATCH, "on")
    missing = client.get_boolean_details("no-such-flag", True, EvaluationContext(targeting_key=owner.user_id))
    assert (missing.value, missing.reason) == (True, Reason.ERROR)  # the SDK's default, FLAG_NOT_FOUND

    url = f"{http_api.base_url}/ofrep/v1/evaluate/flags"
    first = request("POST", url, {"context": {"targetingKey": owner.user_id}}, token=owner.token)
    assert first.status == 200, str(first)
    assert {f["key"]: f["value"] for f in first.json["flags"]}[key] is True
    second = request(
        "POST", url, {"context": {}}, token=owner.token, headers={"If-None-Match": first.headers["etag"]}
    )
    assert second.status == 304

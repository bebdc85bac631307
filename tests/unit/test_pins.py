"""The layer's AWS SDK pins agree, and the venv runs what the layer ships."""

from __future__ import annotations

from importlib.metadata import version

from infra.apps import ROOT


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "layers" / "keel" / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement:
            name, pinned = requirement.split("==", 1)
            pins[name.split("[", 1)[0].strip().lower()] = pinned.strip()
    return pins


def test_botocore_is_pinned_with_boto3_and_installed_as_pinned() -> None:
    pins = _pins()
    assert pins["botocore"] == pins["boto3"]  # released together, same version
    assert version("boto3") == pins["boto3"]
    assert version("botocore") == pins["botocore"]

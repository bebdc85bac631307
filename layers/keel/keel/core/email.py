"""`Email`: pydantic's `EmailStr` (same checks, normalisation, errors and schema), with the
email-validator package loaded by the first address validated instead of at import."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema


def normalise(value: str) -> str:
    from pydantic.networks import validate_email  # loads email-validator on first use

    return validate_email(value)[1]


Email = Annotated[str, AfterValidator(normalise), WithJsonSchema({"type": "string", "format": "email"})]

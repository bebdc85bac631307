"""`Model`: the base of every request, response and domain model.

Schemas are built on first use (`defer_build`), not at import: a cold start builds only the
models its first request touches, instead of every model of the function's area.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)


def build(*models: type[BaseModel]) -> None:
    """Builds the validators `defer_build` left for first use (SnapStart priming: before the snapshot)."""
    for model in models:
        if not model.__pydantic_complete__:
            model.model_rebuild()

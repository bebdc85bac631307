"""Update expressions, built in one place.

    upd = updates(set_={"name": "Riverside", "updated_at": now}, remove=["pending_email"])
    tx.update(pk, sk, upd.expression, names=upd.names, values=upd.values)

(`Tx.change(pk, sk, changes, remove=..., missing=...)` is that, on an item that must exist.)

Every attribute is named through a placeholder (`#name`) so reserved words (`name`, `status`,
`count`) need no care; values are `:name`. Two builders' output can be combined with `+` (for
example a user's fields and its list-index keys moving with a new status).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _token(attr: str) -> str:
    return _UNSAFE.sub("_", attr)


@dataclass(frozen=True)
class Update:
    sets: tuple[str, ...] = ()
    removes: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        return " ".join(parts)

    def __add__(self, other: Update) -> Update:
        return Update(
            self.sets + other.sets,
            self.removes + other.removes,
            {**self.names, **other.names},
            {**self.values, **other.values},
        )

    def __bool__(self) -> bool:
        return bool(self.sets or self.removes)


def updates(
    set_: Mapping[str, Any] | None = None, *, remove: Iterable[str] = (), none_removes: bool = False
) -> Update:
    """`SET #a = :a, ...` for `set_`, `REMOVE #b, ...` for `remove`.

    With `none_removes`, a `None` value in `set_` removes the attribute instead of setting it.
    """
    sets: list[str] = []
    removes: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for attr, value in (set_ or {}).items():
        token = _token(attr)
        names[f"#{token}"] = attr
        if value is None and none_removes:
            removes.append(f"#{token}")
        else:
            sets.append(f"#{token} = :{token}")
            values[f":{token}"] = value
    for attr in remove:
        token = _token(attr)
        names[f"#{token}"] = attr
        removes.append(f"#{token}")
    return Update(tuple(sets), tuple(removes), names, values)


@dataclass(frozen=True)
class Condition:
    """A filter or condition expression with its placeholders (combine with `&`)."""

    expression: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def __and__(self, other: Condition) -> Condition:
        return Condition(
            f"{self.expression} AND {other.expression}",
            {**self.names, **other.names},
            {**self.values, **other.values},
        )


def equal(wanted: Mapping[str, Any]) -> Condition | None:
    """`#a = :a AND #b = :b` for the attributes of `wanted` whose value is not None."""
    parts = [
        Condition(f"#{_token(a)} = :{_token(a)}", {f"#{_token(a)}": a}, {f":{_token(a)}": v})
        for a, v in wanted.items()
        if v is not None
    ]
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out & part
    return out


def one_of(attr: str, options: Iterable[Any], *, negate: bool = False) -> Condition:
    """`#a IN (:a_0, :a_1, ...)`, or `NOT #a IN (...)`."""
    token = _token(attr)
    values = {f":{token}_{i}": v for i, v in enumerate(options)}
    expression = f"#{token} IN ({', '.join(values)})"
    return Condition(("NOT " if negate else "") + expression, {f"#{token}": attr}, values)

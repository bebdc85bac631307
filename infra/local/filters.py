"""Event filtering as Lambda event source mappings do it (EventBridge-style patterns).

Supported: exact values (strings, numbers, booleans, null) in lists, nested objects, `$or`, and the
content filters `prefix`, `suffix`, `equals-ignore-case`, `anything-but`, `numeric`, `exists`,
`wildcard`. A record passes a mapping's FilterCriteria when it matches ANY of the filters.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

_MISSING = object()
_NUMERIC = {"<": operator.lt, "<=": operator.le, "=": operator.eq, ">": operator.gt, ">=": operator.ge}


def parse_filters(filter_criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """`{"Filters": [{"Pattern": "<json>"}]}` -> the patterns (an empty list lets everything through)."""
    patterns = []
    for item in (filter_criteria or {}).get("Filters") or []:
        raw = item.get("Pattern")
        patterns.append(json.loads(raw) if isinstance(raw, str) else raw)
    return patterns


def passes(record: dict[str, Any], patterns: list[dict[str, Any]]) -> bool:
    return not patterns or any(matches(p, record) for p in patterns)


def sqs_view(record: dict[str, Any]) -> dict[str, Any]:
    """SQS filters see the body parsed when it is a JSON object (as Lambda does)."""
    try:
        body = json.loads(record.get("body") or "")
    except ValueError:
        return record
    return {**record, "body": body} if isinstance(body, dict) else record


def matches(pattern: dict[str, Any], data: Any) -> bool:
    if not isinstance(pattern, dict):
        raise ValueError("a pattern is a JSON object")
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(alt, data) for alt in expected):
                return False
            continue
        value = data.get(key, _MISSING) if isinstance(data, dict) else _MISSING
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not _matches_any(expected, value):
                return False
        else:
            raise ValueError(f"pattern values are lists or objects, not {expected!r} (at {key!r})")
    return True


def _values(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else [value]


def _matches_any(rules: list[Any], value: Any) -> bool:
    for rule in rules:
        if isinstance(rule, dict) and "exists" in rule:
            if (value is not _MISSING) == bool(rule["exists"]):
                return True
            continue
        if value is _MISSING:
            continue
        if any(_matches_one(rule, v) for v in _values(value)):
            return True
    return False


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def _text(fn: Callable[[str, Any], bool]) -> Callable[[Any, Any], bool]:
    """A string test; `{"prefix": {"equals-ignore-case": "x"}}` compares case-blind."""

    def test(arg: Any, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        if isinstance(arg, dict):
            return fn(value.lower(), str(arg["equals-ignore-case"]).lower())
        return fn(value, arg)

    return test


def _wildcard(value: str, arg: Any) -> bool:
    return (
        re.fullmatch(".*".join(re.escape(part) for part in str(arg).split("*")), value, re.DOTALL) is not None
    )


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict):
        return not _matches_one(arg, value)
    return not any(_same(a, value) for a in _values(arg))


def _numeric(arg: Any, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    pairs = list(zip(arg[::2], arg[1::2], strict=True))
    return all(_NUMERIC[op](value, bound) for op, bound in pairs)


_CONTENT: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": _text(str.startswith),
    "suffix": _text(str.endswith),
    "equals-ignore-case": lambda arg, value: isinstance(value, str) and value.lower() == str(arg).lower(),
    "wildcard": _text(_wildcard),
    "anything-but": _anything_but,
    "numeric": _numeric,
}


def _matches_one(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return _same(rule, value)
    if len(rule) != 1:
        raise ValueError(f"a content filter has exactly one key: {rule!r}")
    ((kind, arg),) = rule.items()
    test = _CONTENT.get(kind)
    if test is None:
        raise ValueError(f"unsupported filter {kind!r}")
    return test(arg, value)

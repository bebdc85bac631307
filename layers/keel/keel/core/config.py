"""Settings from the environment; template.yaml sets them in Lambda, the local stack sets them too.

Each field is read from the variable of its name in upper case (`TABLE_NAME`), or in lower case,
else it keeps its default; integers are parsed. A plain dataclass: pydantic-settings cost a cold
start more than these few variables are worth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    table_name: str = "keel"
    event_topic_arn: str = ""
    # comma-separated `name=url` pairs; health checks each queue
    queue_urls: str = ""
    app_secret_arn: str = ""
    public_base_url: str = "http://127.0.0.1:3000"
    mail_from: str = "no-reply@keel.example.com"
    # session defaults (a tenant's session settings override them)
    session_idle_seconds: int = 3600
    session_absolute_seconds: int = 12 * 3600
    activation_link_seconds: int = 7 * 24 * 3600
    # hashing cost (Argon2id): OWASP's minimum profile m=19 MiB, t=2, p=1
    argon2_memory_kib: int = 19456
    argon2_time_cost: int = 2
    max_body_bytes: int = 256 * 1024

    @classmethod
    def from_env(cls) -> Settings:
        found: dict[str, str | int] = {}
        for f in fields(cls):
            raw = os.environ.get(f.name.upper(), os.environ.get(f.name))
            if raw is None:
                continue
            try:
                found[f.name] = int(raw.strip()) if f.type == "int" else raw
            except ValueError as exc:
                raise ValueError(f"{f.name.upper()} must be an integer, got {raw!r}") from exc
        return cls(**found)  # type: ignore[arg-type]

    def queues(self) -> dict[str, str]:
        pairs = (p.split("=", 1) for p in self.queue_urls.split(",") if "=" in p)
        return {name.strip(): url.strip() for name, url in pairs}


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()

"""Settings from the environment; template.yaml sets them in Lambda, the local stack sets them too."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

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

    def queues(self) -> dict[str, str]:
        pairs = (p.split("=", 1) for p in self.queue_urls.split(",") if "=" in p)
        return {name.strip(): url.strip() for name, url in pairs}


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()

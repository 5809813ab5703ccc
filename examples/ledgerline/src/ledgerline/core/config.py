"""Process settings from the environment (LEDGERLINE_*). Read once at start-up."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGERLINE_")

    database_url: str = "postgresql+psycopg://ledgerline@localhost/ledgerline"
    redis_url: str = "redis://localhost:6379/0"
    environment: str = "dev"

    stripe_api_key: str = ""
    # Newest first; the handler accepts any of them so a rotation has no gap (LED-151, LED-205).
    stripe_webhook_secrets: list[str] = Field(default_factory=list)
    stripe_timeout_s: float = 10.0
    webhook_tolerance_s: int = 300

    email_api_url: str = "https://api.postmark.example/email"
    email_api_token: str = ""
    email_timeout_s: float = 5.0

    idempotency_ttl_hours: int = 24
    dunning_enabled: bool = True  # kill switch, see docs/runbooks/dunning-incidents.rst
    page_limit_default: int = 50
    page_limit_max: int = 200
    outbox_batch_size: int = 100
    outbox_publish_interval_s: float = 2.0
    outbox_retention_days: int = 7
    rate_limit_per_minute: int = 600
    celery_serializer: str = "json"


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Settings shared by every service, read from the environment (see README, Configuration)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "shaobing-development-secret-change-me"
DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules"  # the defaults in the repository


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_idempotent_producer: bool = True
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    environment: str = "development"
    log_level: str = "INFO"
    topic_partitions: int = 4
    # Published events older than this are deleted from event_log, the replay source; 0: never.
    event_log_retention_days: int = Field(0, ge=0)
    payout_cutoff_day: int = Field(20, ge=1, le=31)
    timezone: str = "Asia/Shanghai"
    rules_dir: Path = DEFAULT_RULES  # RULES_DIR: the verification rules and policies (*.yaml)
    # HTTP_MAX_BODY_BYTES: the largest request body of a route without a cap of its own.
    http_max_body_bytes: int = Field(1024 * 1024, gt=0)
    # SCRAM-SHA-512 credentials of the service's KafkaUser (Strimzi); unset: no authentication.
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    jwt_secret: str = DEV_SECRET  # HS256, for the development issuer (`make token`)
    jwt_issuer: str = "shaobing-dev"
    jwt_audience: str = "shaobing"
    # An OIDC provider: its JWKS (keys picked by `kid`, refreshed when a new one appears) or one
    # configured public key (PEM); either replaces the shared secret.
    jwt_jwks_url: str | None = None
    jwt_public_key: str | None = None
    jwt_algorithms: list[str] = ["RS256", "ES256", "PS256"]
    jwt_jwks_cooldown_seconds: float = 30  # at least this long between refetches for a new kid
    # Where the provider puts Shaobing's claims (dotted paths, e.g. "realm_access.roles").
    jwt_role_claim: str = "role"
    jwt_areas_claim: str = "areas"
    jwt_sources_claim: str = "sources"  # a feed's source systems (path names); none: posts nowhere

    def local_now(self) -> datetime:
        """Now in the zone of the payout calendar and the registries' wall-clock times."""
        return datetime.now(ZoneInfo(self.timezone))

    @property
    def in_development(self) -> bool:
        """ENVIRONMENT=development: the default secret is allowed, cookies travel over HTTP."""
        return self.environment == "development"

    @property
    def jwt_from_provider(self) -> bool:
        return bool(self.jwt_jwks_url or self.jwt_public_key)

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> CommonSettings:
        if not self.in_development and self.jwt_secret == DEV_SECRET and not self.jwt_from_provider:
            raise ValueError("outside development set JWT_JWKS_URL, JWT_PUBLIC_KEY or JWT_SECRET")
        return self

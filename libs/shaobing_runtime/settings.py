"""Settings shared by every service, read from the environment (see README, Configuration)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .audit_chain import Keyring

DEV_SECRET = "shaobing-development-secret-change-me"
DEV_AUDIT_KEY = "shaobing-development-audit-chain-key-change-me"
DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules"  # the defaults in the repository


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_idempotent_producer: bool = True
    # The largest message the relay sends (the broker's message.max.bytes, or less): a larger
    # event-log row is set aside, never blocking the rows behind it.
    kafka_max_message_bytes: int = Field(1_000_000, ge=1024)
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    # How long the migration Job waits for the database to take connections (a first install).
    migrate_wait_seconds: float = Field(900, ge=0)
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


class AuditSettings(CommonSettings):
    """What signs and verifies the audit chain: the api, the alerts service, the verify command.

    The key never reaches the database; outside development the default is refused."""

    audit_chain_key: SecretStr = SecretStr(DEV_AUDIT_KEY)
    audit_chain_key_id: str = Field("1", pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    # Keys rotated out, still verifying the entries and anchors they signed: {"1": "…"}.
    audit_chain_retired_keys: dict[str, SecretStr] = {}
    audit_anchor_dir: Path | None = None  # where the api anchors the chain's head
    audit_anchor_seconds: float = Field(10, gt=0)

    def keyring(self) -> Keyring:
        retired = {
            k: v.get_secret_value().encode() for k, v in self.audit_chain_retired_keys.items()
        }
        current = {self.audit_chain_key_id: self.audit_chain_key.get_secret_value().encode()}
        return Keyring(self.audit_chain_key_id, retired | current)

    @model_validator(mode="after")
    def _no_default_audit_key_in_production(self) -> AuditSettings:
        key = self.audit_chain_key.get_secret_value()
        if self.environment != "development" and (key == DEV_AUDIT_KEY or len(key) < 32):
            raise ValueError("outside development set AUDIT_CHAIN_KEY (32 characters or more)")
        return self

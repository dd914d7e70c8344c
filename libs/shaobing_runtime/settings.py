"""Settings shared by every service, read from the environment (see README, Configuration)."""

from __future__ import annotations

from pathlib import Path

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
    payout_cutoff_day: int = Field(20, ge=1, le=31)
    timezone: str = "Asia/Shanghai"
    rules_dir: Path = DEFAULT_RULES  # RULES_DIR: the verification rules and policies (*.yaml)
    jwt_secret: str = DEV_SECRET
    jwt_issuer: str = "shaobing-dev"
    jwt_audience: str = "shaobing"

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> CommonSettings:
        if self.environment != "development" and self.jwt_secret == DEV_SECRET:
            raise ValueError("JWT_SECRET must be set outside development")
        return self

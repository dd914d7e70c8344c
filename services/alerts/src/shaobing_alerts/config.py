"""Settings of the alerts service (environment, prefix-free shared names plus ALERTS_*)."""

from __future__ import annotations

from pydantic import Field

from shaobing_runtime.settings import AuditSettings


class AlertsSettings(AuditSettings):
    port: int = Field(8002, validation_alias="ALERTS_PORT")
    consumer_group: str = Field("shaobing-alerts", validation_alias="ALERTS_CONSUMER_GROUP")
    batch_size: int = Field(1000, validation_alias="ALERTS_BATCH_SIZE")
    escalation_every_seconds: float = Field(300, validation_alias="ALERTS_ESCALATION_SECONDS")

"""Settings of the api (shared names plus API_*)."""

from __future__ import annotations

from pydantic import Field, model_validator

from shaobing_runtime.settings import AuditSettings


class ApiSettings(AuditSettings):
    port: int = Field(8000, validation_alias="API_PORT")
    max_batch: int = Field(10_000, validation_alias="API_MAX_BATCH")
    payout_slice_size: int = Field(50_000, validation_alias="API_PAYOUT_SLICE_SIZE")
    payout_workers: int = Field(2, ge=1, le=16, validation_alias="API_PAYOUT_WORKERS")
    payout_stall_seconds: float = Field(120, validation_alias="API_PAYOUT_STALL_SECONDS")

    @model_validator(mode="after")
    def _anchored_in_production(self) -> ApiSettings:
        if self.environment != "development" and self.audit_anchor_dir is None:
            raise ValueError("outside development set AUDIT_ANCHOR_DIR: the api anchors the audit")
        return self

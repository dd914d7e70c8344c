"""Settings of the api (shared names plus API_*)."""

from __future__ import annotations

from pydantic import Field, model_validator

from shaobing_runtime.settings import AuditSettings


class ApiSettings(AuditSettings):
    port: int = Field(8000, validation_alias="API_PORT")
    max_batch: int = Field(10_000, validation_alias="API_MAX_BATCH")
    # POST /v1/enrolments' body: API_MAX_BATCH enrolments of ~500 bytes, pretty-printed or not.
    max_enrolment_body_bytes: int = Field(
        16 * 1024 * 1024, gt=0, validation_alias="API_MAX_ENROLMENT_BODY_BYTES"
    )
    # An XLSX export holds at most this many rows (CSV streams any number): openpyxl writes the
    # sheet to a temporary file first, ~360 bytes a row, on the pod's /tmp.
    max_xlsx_rows: int = Field(100_000, gt=0, le=1_048_574, validation_alias="API_MAX_XLSX_ROWS")
    payout_slice_size: int = Field(50_000, validation_alias="API_PAYOUT_SLICE_SIZE")
    payout_workers: int = Field(2, ge=1, le=16, validation_alias="API_PAYOUT_WORKERS")
    payout_stall_seconds: float = Field(120, validation_alias="API_PAYOUT_STALL_SECONDS")

    @model_validator(mode="after")
    def _anchored_in_production(self) -> ApiSettings:
        if self.environment != "development" and self.audit_anchor_dir is None:
            raise ValueError("outside development set AUDIT_ANCHOR_DIR: the api anchors the audit")
        return self

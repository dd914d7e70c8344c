"""Settings of the api (shared names plus API_*)."""

from __future__ import annotations

from pydantic import Field

from shaobing_runtime.settings import CommonSettings


class ApiSettings(CommonSettings):
    port: int = Field(8000, validation_alias="API_PORT")
    max_batch: int = Field(10_000, validation_alias="API_MAX_BATCH")

"""Settings of the matcher (shared names plus MATCHER_*)."""

from __future__ import annotations

from pydantic import Field

from shaobing_runtime.settings import CommonSettings


class MatcherSettings(CommonSettings):
    port: int = Field(8003, validation_alias="MATCHER_PORT")
    app_id: str = Field("shaobing-matcher", validation_alias="MATCHER_APP_ID")
    store: str = Field("memory://", validation_alias="MATCHER_STORE")
    data_dir: str = Field(".var/matcher", validation_alias="MATCHER_DATA_DIR")
    # When the policies sweep every person (cron, in TIMEZONE): birthdays pass without events.
    daily_tick_cron: str = Field("0 6 * * *", validation_alias="MATCHER_DAILY_TICK_CRON")

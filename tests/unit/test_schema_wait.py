"""What a service waiting for its schema finds in the migrations a database has applied."""

from __future__ import annotations

import pytest

from shaobing_runtime.database import shipped_migrations
from shaobing_runtime.schema import Finding, judge, unreadable

NEEDED = ("0001_event_log", "0002_ingest", "0003_enrolments")


@pytest.mark.parametrize(
    ("applied", "finding"),
    [
        (
            set(),
            Finding(False, "waiting for migration 0003_enrolments; the database has no schema yet"),
        ),
        (
            {"0001_event_log"},
            Finding(
                False,
                "waiting for migration 0003_enrolments; the database has up to 0001_event_log",
            ),
        ),
        (  # one missing below the newest applied (added late) is waited for too
            {"0001_event_log", "0003_enrolments"},
            Finding(
                False, "waiting for migration 0002_ingest; the database has up to 0003_enrolments"
            ),
        ),
        (set(NEEDED), Finding(True, "the database has every migration up to 0003_enrolments")),
        (  # a newer release's migrations (a rollback): additive, so this release works
            {*NEEDED, "0004_alerts"},
            Finding(
                True,
                "the database also has 0004_alerts, unknown to this release (additive)",
                ("0004_alerts",),
            ),
        ),
    ],
)
def test_the_schema_will_do_once_every_migration_shipped_is_applied(applied, finding):
    assert judge(NEEDED, applied) == finding


def test_a_database_that_cannot_be_read_is_waited_for_and_says_why():
    found = unreadable(NEEDED, ConnectionRefusedError(111, "Connect call failed"))
    assert not found.ready
    assert found.says == (
        "waiting for migration 0003_enrolments; the database cannot be read"
        " (ConnectionRefusedError: [Errno 111] Connect call failed)"
    )
    assert unreadable(NEEDED, TimeoutError()).says.endswith("cannot be read (TimeoutError)")


def test_a_release_needs_every_migration_it_ships_in_order():
    shipped = shipped_migrations()
    assert shipped == sorted(shipped)
    assert shipped[0] == "0001_event_log" and len(set(shipped)) == len(shipped)

"""The demo city of `make run`: household registrations, enrolments, a few deaths up front,
then a trickle."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import httpx
import orjson
import structlog

from shaobing_runtime.access import Role
from shaobing_runtime.settings import CommonSettings
from shaobing_runtime.tokens import issue_token

from .changes_year import HUKOU, TableRow, hukou_row
from .city import City, deaths_for, enrolment_dicts_for, generate_city
from .debezium_feed import death_change_events
from .demo_files import change_events
from .stack import Stack

DEMO_AREA = "310110"
DEMO_SOURCES = ("hukou", "death")  # what the demo posts: its feed token names no other
log = structlog.get_logger()


class DemoLoader:
    """Loads the city once (re-running is idempotent), then posts one death every few seconds."""

    def __init__(self, stack: Stack, *, people: int, interval: float = 3.0):
        self.stack, self.people, self.interval = stack, people, interval

    def start(self, stop: threading.Event) -> None:
        threading.Thread(target=self._run, args=(stop,), daemon=True).start()

    def _run(self, stop: threading.Event) -> None:
        try:
            self._load(stop)
        except Exception as exc:
            print(f"  demo loader stopped: {exc!r}", flush=True)

    def _load(self, stop: threading.Event) -> None:
        city = generate_city(self.people)
        enrolments = enrolment_dicts_for(city)
        start = datetime.now().replace(microsecond=0) - timedelta(days=2)
        deaths = deaths_for(
            city, enrolments, count=max(40, self.people // 50), start=start, span=timedelta(days=2)
        )
        changes = death_change_events(deaths, with_schema=True)
        with httpx.Client(timeout=60) as client:
            for chunk in _chunks(_registrations(city, start - timedelta(days=1)), 1000):
                self._post_changes(client, "hukou", chunk)  # who lives here: 政策找人 needs it
            head, trickle = changes[:5], changes[5:]
            self._post_changes(client, "death", head)  # known before the enrolments: BLOCK
            for chunk in range(0, len(enrolments), 2000):
                self._post_enrolments(client, enrolments[chunk : chunk + 2000])
            print(
                f"  demo: {len(city.residents)} residents, {len(enrolments)} enrolments "
                f"loaded; {len(trickle)} death registrations to come",
                flush=True,
            )
            for change in trickle:
                if stop.is_set():
                    return
                if self._post_changes(client, "death", [change])["accepted"]:
                    stop.wait(self.interval)

    def _token(self, role: Role, sources: tuple[str, ...] = ()) -> dict[str, str]:
        token = issue_token(
            CommonSettings(),
            subject=f"demo-{role.value}",
            role=role,
            areas=[DEMO_AREA],
            sources=sources,
        )
        return {"authorization": f"Bearer {token}"}

    def _post_enrolments(self, client: httpx.Client, enrolments: list[dict]) -> None:
        response = client.post(
            f"{self.stack.url('api')}/v1/enrolments",
            content=orjson.dumps(enrolments),
            headers=self._token(Role.CASEWORKER),
        )
        response.raise_for_status()

    def _post_changes(self, client: httpx.Client, source: str, changes: list[dict]) -> dict:
        response = client.post(
            f"{self.stack.url('ingest')}/v1/sources/{source}/changes",
            content=orjson.dumps(changes),
            headers=self._token(Role.FEED, DEMO_SOURCES),
        )
        response.raise_for_status()
        return response.json()


def _registrations(city: City, at: datetime) -> list[dict]:
    """Every resident's household registration, as a Debezium snapshot read."""
    rows = [
        TableRow(HUKOU, "r", hukou_row(city, person, person.area_code, "ACTIVE", at), at)
        for person in city.residents
    ]
    return [event for _, event in change_events(rows)]


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]

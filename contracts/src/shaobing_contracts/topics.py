"""Every Kafka topic of Shaobing, defined once: name, key, retention and who writes and reads it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Topic(StrEnum):
    DEATH = "src.death.v1"
    HUKOU = "src.hukou.v1"
    MARRIAGE = "src.marriage.v1"
    SOCIAL_SECURITY = "src.social-security.v1"
    ENROLMENTS = "enrolments.v1"
    PERSON_ENROLMENTS = "person-enrolments.v1"
    SPOUSE_DEATHS = "spouse-deaths.v1"
    ALERTS = "alerts.v1"
    NOTIFICATIONS = "notifications.v1"
    DEAD_LETTERS = "dead-letters.v1"


@dataclass(frozen=True)
class TopicSpec:
    topic: Topic
    key: str
    message: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    compacted: bool = False
    retention_days: int = 30


TOPICS: dict[Topic, TopicSpec] = {
    spec.topic: spec
    for spec in (
        TopicSpec(
            Topic.DEATH,
            "id_number",
            "DeathRegistered | DeathRetracted",
            ("ingest",),
            ("matcher",),
            retention_days=90,
        ),
        TopicSpec(
            Topic.HUKOU,
            "id_number",
            "PersonRegistered | PersonMoved | PersonMovedOut | RegistrationCancelled"
            " | HouseholdChanged",
            ("ingest",),
            ("matcher",),
            retention_days=90,
        ),
        TopicSpec(
            Topic.MARRIAGE,
            "id_number",
            "MarriageRegistered | MarriageRetracted",
            ("ingest",),
            ("matcher",),
            retention_days=90,
        ),
        TopicSpec(
            Topic.SOCIAL_SECURITY,
            "id_number",
            "PensionStarted | PensionAmountChanged | PensionEnded | EmploymentStarted"
            " | EmploymentEnded | UnemploymentBenefitStarted | UnemploymentBenefitEnded",
            ("ingest",),
            ("matcher",),
            retention_days=90,
        ),
        TopicSpec(
            Topic.ENROLMENTS,
            "enrolment_id",
            "EnrolmentRecorded",
            ("api",),
            ("matcher",),
            compacted=True,
        ),
        TopicSpec(
            Topic.PERSON_ENROLMENTS,
            "id_number",
            "PersonEnrolment",
            ("matcher",),
            ("matcher",),
        ),
        TopicSpec(
            Topic.SPOUSE_DEATHS,
            "id_number",
            "SpouseDeathNoted",
            ("matcher",),
            ("matcher",),
        ),
        TopicSpec(
            Topic.ALERTS, "id_number", "AlertRaised | AlertWithdrawn", ("matcher",), ("alerts",)
        ),
        TopicSpec(
            Topic.NOTIFICATIONS,
            "id_number",
            "NotificationRaised | NotificationWithdrawn",
            ("matcher",),
            ("alerts",),
        ),
        TopicSpec(
            Topic.DEAD_LETTERS,
            "source",
            "DeadLetter",
            ("ingest", "matcher"),
            ("alerts",),
            retention_days=90,
        ),
    )
}


def produced_by(service: str) -> tuple[Topic, ...]:
    """The topics `service` writes (its relay publishes those, and only those)."""
    return tuple(t for t, spec in TOPICS.items() if service in spec.producers)

"""One way to put contracts on the wire and take them off: JSON bytes via pydantic."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import BaseModel, Field, TypeAdapter

from .alert import AlertRaised, AlertWithdrawn
from .dead_letter import DeadLetter
from .death import DeathRegistered, DeathRetracted, SpouseDeathNoted
from .enrolment import EnrolmentRecorded, PersonEnrolment
from .hukou import (
    HouseholdChanged,
    PersonMoved,
    PersonMovedOut,
    PersonRegistered,
    RegistrationCancelled,
)
from .marriage import MarriageRegistered, MarriageRetracted
from .notification import NotificationRaised, NotificationWithdrawn
from .plain_json import plain_json
from .social_security import (
    EmploymentEnded,
    EmploymentStarted,
    PensionAmountChanged,
    PensionEnded,
    PensionStarted,
    UnemploymentBenefitEnded,
    UnemploymentBenefitStarted,
)

M = TypeVar("M", bound=BaseModel)

AnyPersonEvent = (
    DeathRegistered
    | DeathRetracted
    | PersonRegistered
    | PersonMoved
    | PersonMovedOut
    | RegistrationCancelled
    | HouseholdChanged
    | MarriageRegistered
    | MarriageRetracted
    | PensionStarted
    | PensionAmountChanged
    | PensionEnded
    | EmploymentStarted
    | EmploymentEnded
    | UnemploymentBenefitStarted
    | UnemploymentBenefitEnded
    | PersonEnrolment
    | SpouseDeathNoted
)
PersonEvent = Annotated[AnyPersonEvent, Field(discriminator="event_type")]
_person_event = TypeAdapter(PersonEvent)


def encode(message: BaseModel) -> bytes:
    """Serialize a contract model to compact JSON bytes (model_dump_json's, as bytes)."""
    plain = plain_json(message)
    return message.__pydantic_serializer__.to_json(message) if plain is None else plain


def decode(model: type[M], data: bytes) -> M:
    """Parse and validate bytes as the given contract model."""
    return model.model_validate_json(data)


AlertMessage = Annotated[AlertRaised | AlertWithdrawn, Field(discriminator="event_type")]
_alert_message = TypeAdapter(AlertMessage)


def decode_alert_message(data: bytes) -> AlertRaised | AlertWithdrawn:
    """Parse a message of alerts.v1."""
    return _alert_message.validate_json(data)


NotificationMessage = Annotated[
    NotificationRaised | NotificationWithdrawn, Field(discriminator="event_type")
]
_notification_message = TypeAdapter(NotificationMessage)


def decode_notification_message(data: bytes) -> NotificationRaised | NotificationWithdrawn:
    """Parse a message of notifications.v1."""
    return _notification_message.validate_json(data)


def decode_person_event(data: bytes) -> AnyPersonEvent:
    """Parse any message keyed by a person (source events and person enrolments)."""
    return _person_event.validate_json(data)


MESSAGES: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        DeathRegistered,
        DeathRetracted,
        PersonRegistered,
        PersonMoved,
        PersonMovedOut,
        RegistrationCancelled,
        HouseholdChanged,
        MarriageRegistered,
        MarriageRetracted,
        PensionStarted,
        PensionAmountChanged,
        PensionEnded,
        EmploymentStarted,
        EmploymentEnded,
        UnemploymentBenefitStarted,
        UnemploymentBenefitEnded,
        EnrolmentRecorded,
        PersonEnrolment,
        SpouseDeathNoted,
        AlertRaised,
        AlertWithdrawn,
        NotificationRaised,
        NotificationWithdrawn,
        DeadLetter,
    )
}

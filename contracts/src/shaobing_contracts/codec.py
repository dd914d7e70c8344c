"""One way to put contracts on the wire and take them off: JSON bytes via pydantic."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import BaseModel, Field, TypeAdapter

from .alert import AlertRaised
from .dead_letter import DeadLetter
from .death import DeathRegistered, DeathRetracted
from .enrolment import EnrolmentRecorded, PersonEnrolment

M = TypeVar("M", bound=BaseModel)

PersonEvent = Annotated[
    DeathRegistered | DeathRetracted | PersonEnrolment, Field(discriminator="event_type")
]
_person_event = TypeAdapter(PersonEvent)


def encode(message: BaseModel) -> bytes:
    """Serialize a contract model to compact JSON bytes."""
    return message.model_dump_json().encode()


def decode(model: type[M], data: bytes) -> M:
    """Parse and validate bytes as the given contract model."""
    return model.model_validate_json(data)


def decode_person_event(data: bytes) -> DeathRegistered | DeathRetracted | PersonEnrolment:
    """Parse any message keyed by a person (source events and person enrolments)."""
    return _person_event.validate_json(data)


MESSAGES: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        DeathRegistered,
        DeathRetracted,
        EnrolmentRecorded,
        PersonEnrolment,
        AlertRaised,
        DeadLetter,
    )
}

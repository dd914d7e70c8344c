"""The matcher's two steps as the stream engine sees them (adapters/stream_step.py): what a
partition's records give to send, to dead-letter, to store and to count, with no Kafka."""

from __future__ import annotations

from matcher_events import BENEFICIARY, ROOT, SPOUSE, died, enrolment, joined, records
from test_enrolment_fan_out import recorded
from test_enrolment_fan_out import records as enrolment_records

from shaobing_contracts.topics import Topic
from shaobing_matcher.config import MatcherSettings
from shaobing_matcher.domain.membership import encode_members
from shaobing_matcher.entrypoints.enrolment_fan_out import EnrolmentFanOut
from shaobing_matcher.entrypoints.person_stream import PersonStream
from shaobing_rules.files import RuleFiles


def nothing_stored(keys: list[bytes]) -> list[bytes | None]:
    return [None] * len(keys)


def test_the_fan_out_sends_each_member_their_enrolment_and_stores_the_members() -> None:
    batch = enrolment_records(b"nonsense", recorded(enrolment(members=[BENEFICIARY, SPOUSE])))

    done = EnrolmentFanOut(MatcherSettings()).for_batch()(batch, nothing_stored)

    assert [(o.topic, o.key) for o in done.outputs] == [
        (Topic.PERSON_ENROLMENTS, BENEFICIARY.encode()),
        (Topic.PERSON_ENROLMENTS, SPOUSE.encode()),
    ]
    assert [record.offset for record, _ in done.failed] == [0]
    assert done.states == {b"DIBAO-310110-0001": encode_members([BENEFICIARY, SPOUSE])}
    assert done.tally.processed == 1


def test_the_death_of_a_beneficiary_sends_its_alert_and_stores_the_person() -> None:
    stream = PersonStream(MatcherSettings(), RuleFiles(ROOT / "rules"))
    batch = records([joined(enrolment(members=[BENEFICIARY])), died()])

    done = stream.for_batch()(batch, nothing_stored)

    alerts = [o for o in done.outputs if o.topic == Topic.ALERTS]
    assert alerts and all(o.key == BENEFICIARY.encode() for o in alerts)
    assert list(done.states) == [BENEFICIARY.encode()] and not done.failed
    assert done.tally.states == done.states

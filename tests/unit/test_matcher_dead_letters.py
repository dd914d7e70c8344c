"""What the matcher cannot process goes to dead-letters.v1 with its reason and raw text; a huge
message is cut, saying so and where the whole of it stays, so that its letter still fits in a
Kafka message (1 MiB by default) and does not block the batch it came with."""

from __future__ import annotations

from shaobing_contracts.codec import decode
from shaobing_contracts.dead_letter import RAW_ON_THE_BUS, DeadLetter, cut_raw
from shaobing_dev.profile_matcher import Message
from shaobing_matcher.adapters.dead_letters import letter_of

KAFKA_MESSAGE_MAX = 1 << 20


def test_a_huge_message_is_dead_lettered_cut_with_a_note_saying_where_the_whole_stays() -> None:
    message = Message("src.death.v1", 2, 12345, b"k", b"\x00" * 5_000_000)  # escaped 6×

    encoded = letter_of(message, "ValueError: too big")
    letter = decode(DeadLetter, encoded)

    assert len(encoded) < KAFKA_MESSAGE_MAX // 2
    assert letter.raw.startswith("\x00" * 1000)
    assert "5000000 characters" in letter.raw and "src.death.v1/2/12345" in letter.raw


def test_a_message_of_ordinary_size_is_dead_lettered_whole() -> None:
    value = '{"event_type": "死亡登记", "x": 8}'.encode()

    letter = decode(DeadLetter, letter_of(Message("src.death.v1", 0, 7, b"k", value), "bad"))

    assert letter.raw == value.decode() and (letter.source, letter.item) == ("src.death.v1", 7)


def test_an_ingest_dead_letter_on_the_bus_is_cut_where_the_whole_stays_in_its_table() -> None:
    raw = "{" + "x" * 2_000_000 + "}"  # a 2 MB item that could not be read

    cut = cut_raw(raw, "ingest's dead_letters table")

    assert len(cut) < RAW_ON_THE_BUS + 200 and cut.startswith("{xxx")
    assert "2000002 characters" in cut and "dead_letters table" in cut
    assert cut_raw("{}", "anywhere") == "{}"

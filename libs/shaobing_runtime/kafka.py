"""Kafka at the edge: topic creation, a shared producer, and message headers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shaobing_contracts.topics import TOPICS

from .health import LoopHealth
from .settings import CommonSettings

Headers = list[tuple[str, bytes]]
T = TypeVar("T")
log = structlog.get_logger()


def client_options(settings: CommonSettings) -> dict[str, str]:
    """What every aiokafka client of a service adds: SCRAM authentication when configured."""
    if not settings.kafka_sasl_username:
        return {}
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password or "",
    }


def header(headers: Headers | None, name: str) -> str | None:
    """Read one header back as text."""
    for key, value in headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None


async def ensure_topics(
    bootstrap: str, partitions: int, *, upstream: tuple[str, ...] = ()
) -> list[str]:
    """Create every topic of the contracts (and the given upstream ones, as a development
    broker has no Debezium to create them) that does not exist yet; returns those created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                str(t),
                partitions,
                1,
                topic_configs={
                    "cleanup.policy": "compact" if s.compacted else "delete",
                    "retention.ms": str(s.retention_days * 86_400_000),
                },
            )
            for t, s in TOPICS.items()
            if str(t) not in existing
        ] + [NewTopic(name, partitions, 1) for name in upstream if name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [n.name for n in missing]
    finally:
        await admin.close()


async def when_up(connect: Callable[[], Awaitable[T]]) -> T:
    """`connect()`, tried again for as long as the broker does not answer (a first install:
    Strimzi's Kafka takes minutes) after a pause growing to 5 s; each new reason logged once."""
    health = LoopHealth()
    while True:
        try:
            return await connect()
        except KafkaError as exc:
            before = health.error
            pause = health.failed(exc, passes=True)
            if health.error != before:
                log.warning("waiting_for_broker", error=health.error)
            await asyncio.sleep(pause)


async def start_producer(
    bootstrap: str, *, idempotent: bool = True, **options: str
) -> AIOKafkaProducer:
    """A producer waiting for every in-sync replica, once the broker answers (`when_up`).

    Idempotence is off only for brokers without InitProducerId (the embedded Tansu broker);
    consumers deduplicate by event id either way.
    """

    async def connect() -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=idempotent,
            linger_ms=5,
            max_batch_size=1 << 20,
            **options,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer

    return await when_up(connect)


async def stop_producer(starting: asyncio.Task[AIOKafkaProducer]) -> None:
    """Stop the producer `starting` started, or end its start."""
    starting.cancel()
    [producer] = await asyncio.gather(starting, return_exceptions=True)
    if isinstance(producer, AIOKafkaProducer):
        await producer.stop()


def main() -> None:
    """`python -m shaobing_runtime.kafka`: create the contracts' topics that are missing (with
    TOPIC_PARTITIONS partitions) on KAFKA_BOOTSTRAP_SERVERS, a broker without authentication
    (with Strimzi its Topic Operator recreates them): the first step after a broker lost its
    log, before the replay (docs/operations.md)."""
    settings = CommonSettings()
    bootstrap, partitions = settings.kafka_bootstrap_servers, settings.topic_partitions
    created = asyncio.run(ensure_topics(bootstrap, partitions))
    print(f"topics created: {', '.join(created) or 'none missing'}")


if __name__ == "__main__":
    main()

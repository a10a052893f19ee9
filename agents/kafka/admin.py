"""Topic declaration: every topic the pipeline uses exists with its partition count."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from agents.changelog import TOPIC as CHANGELOG
from agents.settings import INPUT_TOPICS, NOTIFICATION_TOPIC, OUTPUT_TOPICS, WorkerSettings

log = logging.getLogger(__name__)


#: The state topic: compacted, in segments small enough that the log cleaner reaches all
#: but the last 64 MiB (or hour), so a restore reads about the live state, not its history.
STATE_TOPIC_CONFIG = {
    "cleanup.policy": "compact",
    "segment.bytes": str(64 * 1024 * 1024),
    "segment.ms": str(3_600_000),
}


class KafkaUnavailableError(RuntimeError):
    """The broker cannot be reached; the message is one line for the user."""


async def ensure_topics(settings: WorkerSettings) -> list[str]:
    """Create missing input, output and state topics; returns the names created.

    The state topic (the meter's changelog) is compacted, with as many partitions as
    the input topics: its partition *p* holds the state of input partition *p*.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
    except KafkaConnectionError as exc:
        raise KafkaUnavailableError(f"cannot reach Kafka at {settings.bootstrap}: {exc}") from None
    try:
        existing = set(await admin.list_topics())
        wanted = [
            settings.topic(name)
            for name in (*INPUT_TOPICS, *OUTPUT_TOPICS, CHANGELOG, NOTIFICATION_TOPIC)
        ]
        missing = [name for name in wanted if name not in existing]
        if missing:
            compacted = STATE_TOPIC_CONFIG
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            name,
                            settings.partitions,
                            1,
                            topic_configs=compacted if name == settings.topic(CHANGELOG) else {},
                        )
                        for name in missing
                    ]
                )
            except TopicAlreadyExistsError:
                log.info("topics created concurrently by another worker")
        return missing
    finally:
        await admin.close()


async def partitions_of(bootstrap: str, names: list[str]) -> dict[str, list[int]]:
    """The partition numbers of each existing topic of ``names`` (missing ones left out)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
    except KafkaConnectionError as exc:
        raise KafkaUnavailableError(f"cannot reach Kafka at {bootstrap}: {exc}") from None
    try:
        existing = set(await admin.list_topics())
        wanted = [name for name in names if name in existing]
        described = await admin.describe_topics(wanted) if wanted else []
        return {
            topic["topic"]: sorted(p["partition"] for p in topic["partitions"])
            for topic in described
            if topic["error_code"] == 0
        }
    finally:
        await admin.close()

"""Topic declaration: every topic the pipeline uses exists with its partition count."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

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


@contextlib.asynccontextmanager
async def _admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed on the way out; one line if the broker is away."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
    except KafkaConnectionError as exc:
        raise KafkaUnavailableError(f"cannot reach Kafka at {bootstrap}: {exc}") from None
    try:
        yield admin
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap: str, names: list[str], partitions: int, compacted: frozenset[str] = frozenset()
) -> list[str]:
    """Create the topics of ``names`` that are missing; returns the names created.

    Those in ``compacted`` (the meter's changelog, whose partition *p* holds the state of
    input partition *p*) are compacted; all have ``partitions`` partitions.
    """
    async with _admin(bootstrap) as admin:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            name,
                            partitions,
                            1,
                            topic_configs=STATE_TOPIC_CONFIG if name in compacted else {},
                        )
                        for name in missing
                    ]
                )
            except TopicAlreadyExistsError:
                log.info("topics created concurrently by another worker")
        return missing


async def partitions_of(bootstrap: str, names: list[str]) -> dict[str, list[int]]:
    """The partition numbers of each existing topic of ``names`` (missing ones left out)."""
    async with _admin(bootstrap) as admin:
        existing = set(await admin.list_topics())
        wanted = [name for name in names if name in existing]
        described = await admin.describe_topics(wanted) if wanted else []
        return {
            topic["topic"]: sorted(p["partition"] for p in topic["partitions"])
            for topic in described
            if topic["error_code"] == 0
        }

"""Every topic the pipeline uses, declared once (created by workers and ``produce``)."""

from __future__ import annotations

from agents.changelog import TOPIC as CHANGELOG
from agents.kafka.admin import ensure_topics
from agents.settings import INPUT_TOPICS, NOTIFICATION_TOPIC, OUTPUT_TOPICS, WorkerSettings


async def declare_topics(settings: WorkerSettings) -> list[str]:
    """Create the missing input, output, state and notification topics; the names created."""
    names = [
        settings.topic(name)
        for name in (*INPUT_TOPICS, *OUTPUT_TOPICS, CHANGELOG, NOTIFICATION_TOPIC)
    ]
    state = frozenset({settings.topic(CHANGELOG)})
    return await ensure_topics(settings.bootstrap, names, settings.partitions, state)

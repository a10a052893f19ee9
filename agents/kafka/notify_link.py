"""The producer of ``billing-notifications`` (keyed by app id, idempotent, acks=all)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from agents.kafka.admin import KafkaUnavailableError


class NotificationProducer:
    """``billing.delivery.Publisher`` on aiokafka."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._topic = topic
        self._bootstrap = bootstrap
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )

    async def start(self) -> None:
        """Connect; ``KafkaUnavailableError`` if the broker cannot be reached."""
        try:
            await self._producer.start()
        except KafkaConnectionError as exc:
            raise KafkaUnavailableError(f"cannot reach Kafka at {self._bootstrap}: {exc}") from None

    async def publish(self, records: list[tuple[bytes, bytes]]) -> None:
        """Send every record and wait until the broker has them all."""
        sent = [await self._producer.send(self._topic, value, key=key) for key, value in records]
        await asyncio.gather(*sent)

    async def close(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

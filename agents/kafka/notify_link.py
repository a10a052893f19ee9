"""The producer of ``billing-notifications`` (keyed by app id, idempotent, acks=all)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from agents.kafka.admin import KafkaUnavailableError

log = logging.getLogger(__name__)


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


class RetryingNotifier:
    """The notification producer, connected in the background until the broker answers.

    The billing role starts without Kafka: its notifications wait in the money store
    (``published`` unset) and a pass that cannot publish is retried on the next one, so
    nothing is lost while the broker is away. ``prepare`` (creating the topics) runs
    before each connection attempt. ``/api/health`` reports :meth:`health`.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        prepare: Callable[[], Awaitable[object]],
        retry_s: float = 5.0,
    ) -> None:
        self._bootstrap, self._topic = bootstrap, topic
        self._prepare, self._retry_s = prepare, retry_s
        self._producer: NotificationProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self.error: str | None = "connecting"

    def start(self) -> None:
        """Begin connecting (returns at once)."""
        self._task = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        while True:
            producer = NotificationProducer(self._bootstrap, self._topic)
            try:
                await self._prepare()
                await producer.start()
            except (KafkaUnavailableError, KafkaError, OSError, TimeoutError) as exc:
                self.error = str(exc) or type(exc).__name__
                log.warning("notifications: Kafka unreachable, retrying", extra=_context(exc))
                with contextlib.suppress(Exception):  # a producer that never started
                    await producer.close()
                await asyncio.sleep(self._retry_s)
                continue
            self._producer, self.error = producer, None
            log.info("notifications: connected to Kafka")
            return

    async def publish(self, records: list[tuple[bytes, bytes]]) -> None:
        """Publish, or raise ``KafkaUnavailableError`` while not connected (retried later)."""
        if self._producer is None:
            raise KafkaUnavailableError(f"Kafka at {self._bootstrap} not reachable: {self.error}")
        await self._producer.publish(records)

    def health(self) -> dict[str, object]:
        """Connected or not, and the last connection error."""
        return {"connected": self._producer is not None, "error": self.error}

    async def close(self) -> None:
        """Stop connecting; flush and disconnect."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._producer is not None:
            await self._producer.close()


def _context(exc: BaseException) -> dict[str, object]:
    return {"context": {"error": str(exc) or type(exc).__name__}}

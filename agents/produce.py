"""``billing-meter produce``: publish an event file (SPEC section 7) to the input topics.

Messages keep file order per partition (idempotent producer) and carry the wall
clock as CreateTime (never backwards) plus a ``billing-seq`` header numbering them
in file order, so the meter's merge of the two conversation topics
(:mod:`agents.ordering`) restores the file's order exactly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from agents.kafka.admin import KafkaUnavailableError, ensure_topics
from agents.kafka.records import SEQ_HEADER
from agents.settings import WorkerSettings
from pipeline.eventfile import FileMessage

WINDOW = 20_000  # sends in flight before waiting for their acks


async def from_thread(messages: Iterable[FileMessage]) -> AsyncIterator[FileMessage]:
    """Iterate ``messages`` (a pipe, as lines arrive) in a thread, so that the event loop,
    and with it the producer's sender, keeps running while the next line is awaited:
    a paced producer's messages then leave within the linger, not in bursts."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[FileMessage | None] = asyncio.Queue()

    def read() -> None:
        try:
            for message in messages:
                loop.call_soon_threadsafe(queue.put_nowait, message)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    reader = loop.run_in_executor(None, read)
    while (message := await queue.get()) is not None:
        yield message
    await reader  # re-raises a read error (a malformed line)


async def produce(
    messages: Iterable[FileMessage] | AsyncIterator[FileMessage],
    settings: WorkerSettings,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Send every message; returns how many. Raises on any failed delivery."""
    await ensure_topics(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
    )
    try:
        await producer.start()
    except KafkaConnectionError as exc:
        raise KafkaUnavailableError(f"cannot reach Kafka at {settings.bootstrap}: {exc}") from None
    count, stamp = 0, 0
    pending: list[asyncio.Future[object]] = []
    stream = messages if isinstance(messages, AsyncIterator) else _aiter(messages)
    try:
        async for message in stream:
            stamp = max(int(time.time() * 1000), stamp)  # wall clock, never backwards
            headers = [(SEQ_HEADER, (count + 1).to_bytes(8, "big"))]
            pending.append(
                await producer.send(
                    settings.topic(message.topic),
                    message.value,
                    key=message.key,
                    timestamp_ms=stamp,
                    headers=headers,
                )
            )
            count += 1
            if len(pending) >= WINDOW:
                await asyncio.gather(*pending)
                pending.clear()
                if on_progress is not None:
                    on_progress(count)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return count


async def _aiter(messages: Iterable[FileMessage]) -> AsyncIterator[FileMessage]:
    for message in messages:
        yield message

"""``billing-meter produce``: publish an event file (SPEC section 7) to the input topics.

Messages keep file order per partition (idempotent producer). A file in processing
order is stamped with the wall clock as CreateTime (never backwards) plus a
``billing-seq`` header numbering the messages in file order, so the meter's merge of
the two conversation topics (SPEC 2b) restores the file's order exactly. A dump's
lines keep their own ``timestamp``, ``billing_seq`` and ``partition``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from agents.kafka.admin import KafkaUnavailableError
from agents.kafka.records import SEQ_HEADER, Topics
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
    bootstrap: str,
    topics: Topics,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Send every message to its topic (``topics`` adds the prefix); returns how many.
    Raises on any failed delivery. The caller declares the topics first."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
    )
    try:
        await producer.start()
    except KafkaConnectionError as exc:
        raise KafkaUnavailableError(f"cannot reach Kafka at {bootstrap}: {exc}") from None
    count, stamp = 0, 0
    pending: list[asyncio.Future[object]] = []
    stream = messages if isinstance(messages, AsyncIterator) else _aiter(messages)
    try:
        async for message in stream:
            stamp = max(int(time.time() * 1000), stamp)  # wall clock, never backwards
            timestamp, headers = stamped(message, stamp, count + 1)
            pending.append(
                await producer.send(
                    topics.full(message.topic),
                    message.value,
                    key=message.key,
                    partition=message.partition,
                    timestamp_ms=timestamp,
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


def stamped(message: FileMessage, now_ms: int, number: int) -> tuple[int, list[tuple[str, bytes]]]:
    """The record timestamp and headers of a message (SPEC 7): a dump's line keeps its
    own ``timestamp`` and ``billing_seq``; a line of a file in processing order gets the
    wall clock and its number in the file, so the merge restores the file's order."""
    if message.timestamp is None:
        return now_ms, [(SEQ_HEADER, number.to_bytes(8, "big"))]
    if message.seq is None:
        return message.timestamp, []
    return message.timestamp, [(SEQ_HEADER, message.seq.to_bytes(8, "big"))]


async def _aiter(messages: Iterable[FileMessage]) -> AsyncIterator[FileMessage]:
    for message in messages:
        yield message

"""The Faust floor: a Faust agent that only iterates the input topics and acks each record.

The same raw codecs and ``noack`` + ack-per-record stream as the meter, Faust's default
settings otherwise, no work per record. Its rate is the most any Faust agent can do on
this machine, so the worker's rate is compared with it as well as with the plain
aiokafka consumer.

    FLOOR_PREFIX=p. FLOOR_COUNT=N python benchmarks/faust_floor.py worker -l warn

Prints ``faust-floor MESSAGES SECONDS`` (from the first record to the N-th) and exits.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import faust

from agents.settings import INPUT_TOPICS

PREFIX = os.environ.get("FLOOR_PREFIX", "")
COUNT = int(os.environ.get("FLOOR_COUNT", "100000"))
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")

app = faust.App(
    f"{PREFIX}faust-floor-{uuid.uuid4().hex[:6]}",
    broker=f"kafka://{BOOTSTRAP}",
    store="memory://",
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
    autodiscover=False,
)
topics = app.topic(
    *(PREFIX + t for t in INPUT_TOPICS),
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
)


@app.agent(topics)
async def iterate(stream: Any) -> None:
    """Count records; print the rate once ``COUNT`` were seen, then exit the process."""
    manual = stream.noack()
    seen, started = 0, 0.0
    async for event in manual.events():
        started = started or time.perf_counter()
        seen += 1
        await manual.ack(event)
        if seen >= COUNT:
            print(f"faust-floor {seen} {time.perf_counter() - started:.3f}", flush=True)
            os._exit(0)  # a benchmark: no graceful shutdown needed


if __name__ == "__main__":
    app.main()

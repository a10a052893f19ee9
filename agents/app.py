"""The Faust app: wires the roles (meter, sink, web) of one worker process."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import faust
from aiokafka.errors import IllegalStateError
from faust.types import TP
from prometheus_client import CollectorRegistry

from agents import web
from agents.batching import run_batches
from agents.guard import OffsetGuard
from agents.meter import CONVERSATION_TOPICS, Incoming, Meter
from agents.metrics import BillingMetrics
from agents.produce import SEQ_HEADER
from agents.settings import INPUT_TOPICS, OUTPUT_TOPICS, WorkerSettings
from agents.sink import SinkRole
from agents.stores import FaustTable
from agents.watchdog import FetchWatchdog
from schemas import alert_delivery
from sinks.clickhouse.store import ClickHouseStore, StoreError

log = logging.getLogger(__name__)
RAW: dict[str, Any] = {
    "key_type": bytes,
    "value_type": bytes,
    "key_serializer": "raw",
    "value_serializer": "raw",
}


@dataclass(slots=True)
class Worker:
    """The app and the roles it runs (for tests and the CLI)."""

    app: faust.App
    settings: WorkerSettings
    guard: OffsetGuard
    registry: CollectorRegistry
    metrics: BillingMetrics
    meter: Meter | None = None
    sink: SinkRole | None = None
    store: ClickHouseStore | None = None
    store_lock: threading.Lock = field(default_factory=threading.Lock)
    last_offsets: dict[tuple[str, int], int] = field(default_factory=dict)


def create_worker(settings: WorkerSettings, store: ClickHouseStore | None) -> Worker:
    """Build the Faust app with the agents of ``settings.roles``."""
    roles = settings.roles
    app = faust.App(
        settings.app_id(roles),
        broker=f"kafka://{settings.bootstrap}",
        store="memory://",
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        web_enabled=True,  # /metrics and /api/health on every worker
        web_tables_enabled=False,  # Faust's /table pages would expose state
        web_router_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        table_standby_replicas=0,
        autodiscover=False,
        broker_commit_every=10_000,
        broker_commit_interval=1.0,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
    )
    registry = CollectorRegistry()
    metrics = BillingMetrics.create(registry)
    worker = Worker(app, settings, OffsetGuard(app), registry, metrics, store=store)
    prefix = settings.topic_prefix
    worker.guard.on_rewind = lambda topic: metrics.rewound(topic[len(prefix) :])

    async def forget_positions(_app: Any, revoked: set[TP], **_: Any) -> None:
        worker.guard.forget(revoked)
        for tp in revoked:  # re-assigned partitions resume from the committed offset
            worker.last_offsets.pop((tp.topic, tp.partition), None)

    app.on_partitions_revoked.connect(forget_positions)  # type: ignore[arg-type]
    app.timer(1.0, name="offset-guard")(worker.guard.retry)
    read = {settings.topic(t) for t in (*INPUT_TOPICS, *OUTPUT_TOPICS)}
    watchdog = FetchWatchdog(app, worker.guard, lambda tp: tp.topic in read)
    watchdog.on_wake = lambda topic: metrics.woken(topic[len(prefix) :])
    app.timer(5.0, name="fetch-watchdog")(watchdog.check)
    _wire_lag(worker)
    if "meter" in roles:
        _wire_meter(worker)
    if "sink" in roles:
        _wire_sink(worker)
    web.wire_ops(app, worker.registry, lambda: _health(worker))
    if "web" in roles:
        if store is None:
            raise StoreError("the web role needs a ClickHouse store")
        web.wire_api(app, web.Api(store, worker.store_lock, settings.api_token))
    return worker


def _incoming(worker: Worker, event: Any) -> Incoming:
    message = event.message
    base = message.topic[len(worker.settings.topic_prefix) :]
    worker.last_offsets[(message.topic, message.partition)] = message.offset
    return Incoming(
        base,
        message.partition,
        message.offset,
        round((message.timestamp or 0.0) * 1000),
        message.key,
        message.value,
        _seq(message.headers),
    )


def _seq(headers: Any) -> int:
    """The producer's ``billing-seq`` header (8-byte big-endian), 0 without it."""
    items = headers.items() if isinstance(headers, dict) else headers or ()
    for name, value in items:
        if name == SEQ_HEADER and isinstance(value, bytes) and len(value) == 8:
            return int.from_bytes(value, "big")
    return 0


def _wire_meter(worker: Worker) -> None:
    app, settings, guard = worker.app, worker.settings, worker.guard

    async def send(topic: str, key: bytes | None, value: bytes, ts_ms: int | None) -> Any:
        """Straight to the producer (``ensure_topics`` created the topic): Faust's per-message
        topic machinery costs more than this."""
        stamp = None if ts_ms is None else ts_ms / 1000
        return await app.producer.send(settings.topic(topic), key, value, None, stamp, None)

    async def caught_up(topic: str, partition: int) -> float | None:
        """When a fetch response showed this partition read to its log end (s), else None."""
        tp = TP(settings.topic(topic), partition)
        last = worker.last_offsets.get((tp.topic, partition))
        # nothing read since (re)start: the consumer resumes at the committed offset (Faust
        # seeks there after recovery); position() can block until a fetch, so it is not used
        committed = app.consumer._committed_offset.get(tp)  # type: ignore[attr-defined]
        position = last + 1 if last is not None else (committed or 0)
        try:
            high = app.consumer.highwater(tp)
            fetched_ms = app.consumer._thread._ensure_consumer().last_poll_timestamp(tp)  # type: ignore[attr-defined]
        except (KeyError, AssertionError, AttributeError, IllegalStateError):
            return None
        if high is None or fetched_ms is None or position < high:
            return None
        return float(fetched_ms) / 1000

    def table(name: str) -> FaustTable:
        return FaustTable(
            app.Table(
                name, default=None, key_type=str, value_type=str, partitions=settings.partitions
            )
        )

    conversation_names = {settings.topic(t) for t in CONVERSATION_TOPICS}

    def assigned() -> set[int] | None:
        recovered = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
        if app.rebalancing or app.in_recovery or not recovered:
            return None
        return {tp.partition for tp in app.consumer.assignment() if tp.topic in conversation_names}

    meter = Meter(
        settings,
        conversations=table("conversations"),
        alerts=table("alerts"),
        pending=table("pending"),
        send=send,
        caught_up=caught_up,
        assigned=assigned,
    )
    worker.meter = meter
    meter.on_outcome = worker.metrics.outcome
    meter.on_invalid = worker.metrics.invalid
    meter.on_sweep = worker.metrics.swept
    conversation_topics = app.topic(*(settings.topic(t) for t in CONVERSATION_TOPICS), **RAW)
    alert_topic = app.topic(settings.topic(alert_delivery.TOPIC), **RAW)

    async def meter_records(events: list[Any]) -> None:
        await meter.on_records([_incoming(worker, e) for e in events])

    async def meter_agent(stream: Any) -> None:
        await run_batches(
            stream, settings.meter_batch, settings.batch_within_s, meter_records, guard.admit
        )

    app.agent(conversation_topics, name="meter-conversations")(meter_agent)
    app.agent(alert_topic, name="meter-alerts")(meter_agent)
    app.timer(settings.max_hold_s / 2, name="meter-release")(meter.tick_release)
    app.timer(settings.sweep_interval_s, name="meter-sweep")(meter.tick)

    async def on_revoked(_app: Any, revoked: set[TP], **_: Any) -> None:
        meter.revoke({tp.partition for tp in revoked})

    app.on_partitions_revoked.connect(on_revoked)  # type: ignore[arg-type]


def _wire_lag(worker: Worker) -> None:
    """Timer: messages behind the log end, per assigned topic partition."""
    app, prefix, metrics = worker.app, worker.settings.topic_prefix, worker.metrics

    async def measure_lag() -> None:
        for tp in list(app.consumer.assignment()):
            last = worker.last_offsets.get((tp.topic, tp.partition))
            try:
                high = app.consumer.highwater(tp)
            except (KeyError, AssertionError, IllegalStateError):
                continue
            if high is None or last is None:
                continue
            metrics.consumer_lag.labels(tp.topic[len(prefix) :], str(tp.partition)).set(
                max(0, high - last - 1)
            )

    app.timer(5.0, name="consumer-lag")(measure_lag)


def _wire_sink(worker: Worker) -> None:
    app, settings, guard = worker.app, worker.settings, worker.guard
    if worker.store is None:
        raise StoreError("the sink role needs a ClickHouse store")
    sink = SinkRole(worker.store, worker.store_lock, settings.sink_batch)
    worker.sink = sink
    sink.on_flush = worker.metrics.flushed
    sink.on_error = worker.metrics.sink_failed
    sink.on_latency = worker.metrics.latencies
    topics = app.topic(*(settings.topic(t) for t in OUTPUT_TOPICS), **RAW)

    async def sink_records(events: list[Any]) -> None:
        await sink.on_records([_incoming(worker, e) for e in events])

    async def sink_agent(stream: Any) -> None:
        await run_batches(
            stream, settings.sink_batch, settings.batch_within_s, sink_records, guard.admit
        )

    app.agent(topics, name="sink")(sink_agent)


def _health(worker: Worker) -> dict[str, object]:
    body: dict[str, object] = {
        "status": "ok",
        "roles": sorted(worker.settings.roles),
        "assigned_partitions": len(worker.app.consumer.assignment()),
    }
    if worker.sink is not None:
        body["sink"] = worker.sink.stats()
    return body

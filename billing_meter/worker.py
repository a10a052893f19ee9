"""Running a worker process: topics, store, the roles it was given, the web server.

SIGTERM or SIGINT sets a stop flag; each role finishes (or abandons, unacknowledged)
the batch in hand, the Kafka clients close within their deadlines, and the process
exits. A last-resort timer ends the process if shutdown itself hangs (a broker that
went away mid-request), so a stop never takes longer than ``SHUTDOWN_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.config
import os
import signal
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from agents import changelog
from agents.billing_role import BillingRole, PostingMetrics
from agents.kafka.meter_link import MeterLink, MeterLinkConfig
from agents.kafka.notify_link import RetryingNotifier
from agents.kafka.records import PartitionBatch, Topics
from agents.kafka.sink_link import SinkLink
from agents.logs import logging_config, redact
from agents.meter import INPUTS, Meter
from agents.metrics import BillingMetrics
from agents.settings import NOTIFICATION_TOPIC, OUTPUT_TOPICS, WorkerSettings
from agents.sink import Decoded, SinkRole
from agents.topics import declare_topics
from billing import db as money_store
from billing.finalize import InvoiceSettings
from billing.operations import Sessions
from billing.posting import ReportUsage
from pipeline.spine import OneAhead
from sinks.clickhouse.store import ClickHouseStore, StoreError, open_store
from web.billing_api import BillingApi
from web.server import Api, create_app, serve

log = logging.getLogger(__name__)
SHUTDOWN_S = 25.0
LAG_EVERY_S = 5.0


@dataclass(slots=True)
class Roles:
    """What one worker runs."""

    settings: WorkerSettings
    metrics: BillingMetrics
    stopping: asyncio.Event
    meter: Meter | None = None
    meter_link: MeterLink | None = None
    sink: SinkRole | None = None
    sink_link: SinkLink | None = None
    notifier: RetryingNotifier | None = None
    billing: BillingRole | None = None
    loops: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    def health(self) -> dict[str, object]:
        """``/api/health``: roles, owned partitions, the sink's figures."""
        meter = len(self.meter_link.owned()) if self.meter_link else 0
        sink = self.sink_link.assigned() if self.sink_link else 0
        body: dict[str, object] = {
            "status": "ok",
            "roles": sorted(self.settings.roles),
            "assigned_partitions": meter + sink,
            "meter_partitions": meter,  # opened: restored and reading
            "sink_partitions": sink,
        }
        if self.sink is not None:
            body["sink"] = self.sink.stats()
        if self.notifier is not None:
            body["notifications"] = self.notifier.health()
        if self.billing is not None:  # degraded, not failing: it serves, it holds invoices
            body["invoices"] = self.billing.invoice_health()
            if not self.billing.invoices.can_finalize:
                body["status"] = "degraded"
        return body


def run_worker(settings: WorkerSettings) -> int:
    """Run until stopped (SIGTERM/SIGINT); returns the exit status."""
    logging.config.dictConfig(logging_config(settings.log_level))
    log.info(
        "worker starting",
        extra={
            "context": {
                "roles": sorted(settings.roles),
                "bootstrap": settings.bootstrap,
                "clickhouse": redact(settings.clickhouse_url),
                "web": f"{settings.web_host}:{settings.web_port}",
                "topic_prefix": settings.topic_prefix,
                "api_token": settings.api_token is not None,
            }
        },
    )
    if {"meter", "sink"} & settings.roles:  # they read topics; web and billing start without
        created = asyncio.run(declare_topics(settings))
        if created:
            log.info("created topics", extra={"context": {"topics": created}})
    store = (
        open_store(settings.clickhouse_url) if {"sink", "web", "billing"} & settings.roles else None
    )
    sessions = None
    if {"web", "billing"} & settings.roles:
        sessions = money_store.open_store(settings.billing_db_url, settings.expiring_days)
    try:
        return asyncio.run(_serve(settings, store, sessions))
    finally:
        if store is not None:
            store.close()


async def _serve(
    settings: WorkerSettings, store: ClickHouseStore | None, sessions: Sessions | None
) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _on_signal, stopping)
    registry = CollectorRegistry()
    roles = Roles(settings, BillingMetrics.create(registry), stopping)
    api = None
    invoices = settings.invoices
    billing_api = (  # the HTTP API is the web role's: billing alone serves probes and metrics
        BillingApi(
            sessions, settings.api_token, invoices=invoices, secure_cookies=settings.secure_cookies
        )
        if sessions is not None and "web" in settings.roles
        else None
    )
    if "web" in settings.roles:
        if store is None:
            raise StoreError("the web role needs a ClickHouse store")
        api = Api(store, settings.api_token, billing_api)
    runner = await serve(
        create_app(registry, roles.health, api, billing_api, trust_proxy=settings.trust_proxy),
        settings.web_host,
        settings.web_port,
    )
    try:
        await _start_roles(roles, store)
        if "billing" in settings.roles and sessions is not None and store is not None:
            usage = ReportUsage(store)
            await _start_billing(roles, sessions, usage, registry, invoices)
        log.info("worker ready", extra={"context": {"roles": sorted(settings.roles)}})
        tasks: list[asyncio.Task[None]] = [asyncio.create_task(run()) for run in roles.loops]
        tasks.append(asyncio.create_task(_lag_loop(roles)))
        stop_task = asyncio.create_task(_wait(stopping))
        done, _ = await asyncio.wait([stop_task, *tasks], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stop_task and t.exception() is not None]
        stopping.set()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()
        for task in failed:
            log.critical("a role failed; stopping", exc_info=task.exception())
        return 1 if failed else 0
    finally:
        await _close(roles, runner)


async def _wait(event: asyncio.Event) -> None:
    await event.wait()


def _on_signal(stopping: asyncio.Event) -> None:
    log.info("stopping")
    stopping.set()
    timer = threading.Timer(SHUTDOWN_S, os._exit, args=(1,))  # shutdown itself hung
    timer.daemon = True
    timer.start()


async def _start_roles(roles: Roles, store: ClickHouseStore | None) -> None:
    settings = roles.settings
    topics = Topics(settings.topic_prefix)
    if "meter" in settings.roles:
        config = MeterLinkConfig(
            settings.bootstrap,
            settings.group("meter"),
            topics,
            INPUTS,
            changelog.TOPIC,
            settings.meter_batch,
        )
        meter: Meter | None = None

        def revoked(partitions: set[int]) -> None:
            if meter is not None:
                meter.revoked(partitions)

        roles.meter_link = MeterLink(config, revoked, changelog.Restorer)
        meter = roles.meter = Meter(settings, roles.meter_link, roles.metrics)
        await roles.meter_link.start()
        meter_link = roles.meter_link
        roles.loops.append(lambda: meter_link.run(meter, roles.stopping, settings.batch_within_s))
    if "sink" in settings.roles:
        if store is None:
            raise StoreError("the sink role needs a ClickHouse store")
        sink = roles.sink = SinkRole(store, settings.sink_batch, roles.metrics, roles.stopping)
        link = roles.sink_link = SinkLink(
            settings.bootstrap,
            settings.group("sink"),
            topics,
            OUTPUT_TOPICS,
            settings.sink_batch,
        )
        await link.start()

        async def sink_loop() -> None:
            step: OneAhead[list[PartitionBatch], Decoded] = OneAhead(sink, link.commit)
            try:  # the last batch written is committed when the loop stops
                await link.run(step, roles.stopping, settings.batch_within_s)
            except Exception:
                if roles.stopping.is_set():
                    return  # the store gave up while stopping: nothing was acknowledged
                raise

        roles.loops.append(sink_loop)


async def _start_billing(
    roles: Roles,
    sessions: Sessions,
    source: ReportUsage,
    registry: CollectorRegistry,
    invoices: InvoiceSettings,
) -> None:
    settings = roles.settings
    roles.notifier = RetryingNotifier(
        settings.bootstrap, settings.topic(NOTIFICATION_TOPIC), lambda: declare_topics(settings)
    )
    roles.notifier.start()
    role = BillingRole(
        sessions,
        source,
        roles.notifier,
        settings.webhook,
        PostingMetrics.create(registry),
        settings.posting_interval_s,
        invoices,
        post_every_ms=settings.post_every_ms,
    )
    roles.billing = role
    roles.loops.append(lambda: role.run(roles.stopping))


async def _lag_loop(roles: Roles) -> None:
    while not roles.stopping.is_set():
        lag: dict[tuple[str, int], int] = {}
        if roles.meter_link is not None:
            lag.update(roles.meter_link.lag())
        if roles.sink_link is not None:
            lag.update(await roles.sink_link.lag())
        roles.metrics.lag(lag)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(roles.stopping.wait(), LAG_EVERY_S)


async def _close(roles: Roles, runner: object) -> None:
    for link in (roles.meter_link, roles.sink_link, roles.notifier):
        if link is not None:
            await link.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(runner.cleanup(), 5)  # type: ignore[attr-defined]
    log.info("worker stopped")

"""Running a worker process: declare topics, open the store, start Faust."""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os

from faust.worker import Worker as FaustWorker

from agents.admin import ensure_topics
from agents.app import create_worker
from agents.logs import logging_config, redact
from agents.settings import WorkerSettings
from sinks.clickhouse.store import open_store

log = logging.getLogger(__name__)


def run_worker(settings: WorkerSettings) -> int:
    """Run until stopped (SIGTERM/SIGINT); returns the exit status."""
    level = os.environ.get("BILLING_LOG_LEVEL", "INFO").upper()
    logging.config.dictConfig(logging_config(level))
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
    created = asyncio.run(ensure_topics(settings))
    if created:
        log.info("created topics", extra={"context": {"topics": created}})
    store = open_store(settings.clickhouse_url) if {"sink", "web"} & settings.roles else None
    worker = create_worker(settings, store)
    faust_worker = FaustWorker(
        worker.app,
        loglevel=level,
        logging_config=logging_config(level),
        quiet=True,
        redirect_stdouts=False,
    )
    try:
        faust_worker.execute_from_commandline()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        if store is not None:
            store.close()
    return 0

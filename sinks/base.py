"""The sink contract: ``add`` records, ``flush`` batches, one ``write(batch)`` per backend.

Modelled on quix-streams' ``BatchingSink``. Records are routed to a table by
type; a batch is one table's rows. A backend's ``write`` must be idempotent:
the same batch written twice (a retry) changes no total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from schemas.agent_activity import AgentActivity
from schemas.billing_session import BillingSession
from schemas.conversation_summary import ConversationSummary
from schemas.dead_letter import DeadLetter

Record = BillingSession | AgentActivity | ConversationSummary | DeadLetter

#: Record type to table name.
TABLES: dict[type, str] = {
    BillingSession: "sessions",
    AgentActivity: "agent_activity",
    ConversationSummary: "conversations",
    DeadLetter: "dead_letters",
}


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows for one table, in arrival order: records, and blocks of rows already decoded
    column-wise (Arrow tables of sessions decoded straight from their JSON)."""

    table: str
    records: tuple[Record, ...]
    blocks: tuple[Any, ...] = ()


class Backend(Protocol):
    """Writes a batch; raises on failure (the caller retries the same batch)."""

    def write(self, batch: Batch) -> None:
        """Write all of ``batch`` or raise."""


class BatchingSink:
    """Buffers records per table and writes them in batches of at most ``max_rows``."""

    def __init__(self, backend: Backend, max_rows: int = 50_000) -> None:
        if max_rows <= 0:
            raise ValueError("max_rows must be positive")
        self._backend = backend
        self._max_rows = max_rows
        self._buffers: dict[str, list[Record]] = {table: [] for table in TABLES.values()}
        self._blocks: dict[str, list[tuple[Any, int]]] = {table: [] for table in TABLES.values()}
        self.rows_written: dict[str, int] = dict.fromkeys(TABLES.values(), 0)

    def add(self, record: Record) -> None:
        """Buffer one record; writes its table's batch when it is full."""
        table = self.stage(record)
        if len(self._buffers[table]) >= self._max_rows:  # per record: no sum over blocks
            self._write(table)

    def stage(self, record: Record) -> str:
        """Buffer one record without writing (the caller flushes); returns its table."""
        table = TABLES[type(record)]
        self._buffers[table].append(record)
        return table

    def stage_block(self, table: str, block: Any, rows: int) -> None:
        """Buffer a column-wise block without writing (the caller flushes)."""
        self._blocks[table].append((block, rows))

    def _rows(self, table: str) -> int:
        return len(self._buffers[table]) + sum(rows for _, rows in self._blocks[table])

    def pending(self) -> int:
        """Rows buffered and not yet written."""
        return sum(self._rows(table) for table in self._buffers)

    def discard(self) -> None:
        """Drop everything buffered (the worker stops; its records were not acknowledged)."""
        self._buffers = {table: [] for table in self._buffers}
        self._blocks = {table: [] for table in self._blocks}

    def flush(self) -> None:
        """Write every non-empty buffer."""
        for table in self._buffers:
            if self._rows(table):
                self._write(table)

    def _write(self, table: str) -> None:
        records, blocks = tuple(self._buffers[table]), tuple(self._blocks[table])
        self._backend.write(Batch(table=table, records=records, blocks=tuple(b for b, _ in blocks)))
        self._buffers[table], self._blocks[table] = [], []
        self.rows_written[table] += len(records) + sum(rows for _, rows in blocks)

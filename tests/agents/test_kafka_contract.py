"""The aiokafka contract ``agents.kafka`` relies on: an upgrade that changes it fails here.

The surface (names, signatures, record fields) is checked here, without a broker; the
behaviour the exactly-once argument rests on (aborted transactions stay invisible,
offsets commit with their transaction, a new producer fences the old one) is checked
against the real broker in ``tests/integration/test_kafka_transactions.py``.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import aiokafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener

ROOT = Path(__file__).resolve().parents[2]


def pinned(package: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(f"{package}=="):
            return line.split("==", 1)[1]
    raise AssertionError(f"{package} is not pinned in constraints.txt")


def parameters(function: object) -> set[str]:
    return set(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_installed_aiokafka_is_the_pinned_one() -> None:
    assert aiokafka.__version__ == pinned("aiokafka")


def test_consumer_surface() -> None:
    assert {"isolation_level", "partition_assignment_strategy", "enable_auto_commit"} <= parameters(
        AIOKafkaConsumer.__init__
    )
    assert {"timeout_ms", "max_records"} <= parameters(AIOKafkaConsumer.getmany)
    for name in (
        "pause",
        "resume",
        "seek",
        "committed",
        "beginning_offsets",
        "end_offsets",
        "position",
        "last_stable_offset",
        "last_poll_timestamp",
        "assignment",
        "subscribe",
        "commit",
    ):
        assert callable(getattr(AIOKafkaConsumer, name)), name
    assert "listener" in parameters(AIOKafkaConsumer.subscribe)
    assert {"on_partitions_revoked", "on_partitions_assigned"} <= set(
        ConsumerRebalanceListener.__abstractmethods__
    )
    from aiokafka.coordinator.assignors.range import RangePartitionAssignor

    assert RangePartitionAssignor.name == "range"


def test_producer_and_record_surface() -> None:
    assert {"transactional_id", "enable_idempotence"} <= parameters(AIOKafkaProducer.__init__)
    assert {"topic", "value", "key", "partition", "timestamp_ms"} <= parameters(
        AIOKafkaProducer.send
    )
    assert parameters(AIOKafkaProducer.send_offsets_to_transaction) == {
        "self",
        "offsets",
        "group_id",
    }
    for name in ("begin_transaction", "commit_transaction", "abort_transaction"):
        assert inspect.iscoroutinefunction(getattr(AIOKafkaProducer, name)), name
    from aiokafka.structs import ConsumerRecord

    fields = set(ConsumerRecord.__dataclass_fields__)
    assert {"topic", "partition", "offset", "timestamp", "key", "value", "headers"} <= fields


def test_the_kafka_adapter_contract_names_every_module_of_agents_outside_it() -> None:
    """The import contract lists modules by name: a module added to ``agents`` must be
    added to it, or ``agents.kafka`` could import it unchecked."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (bottom,) = [c for c in contracts if c["source_modules"] == ["agents.kafka"]]
    agents = ROOT / "agents"
    modules = {f"agents.{p.stem}" for p in agents.glob("*.py") if p.stem != "__init__"}
    modules |= {f"agents.{p.name}" for p in agents.iterdir() if (p / "__init__.py").exists()}
    assert set(bottom["forbidden_modules"]) == modules - {"agents.kafka"}


def test_only_agents_kafka_may_import_the_kafka_client() -> None:
    """The client contract's sources are every root package and every module of
    ``agents`` but ``agents.kafka`` (where ``produce`` lives too)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    linter = config["tool"]["importlinter"]
    contracts = linter["contracts"]
    (client,) = [c for c in contracts if c["name"].startswith("Only agents.kafka touches")]
    agents = ROOT / "agents"
    modules = {f"agents.{p.stem}" for p in agents.glob("*.py") if p.stem != "__init__"}
    roots = set(linter["root_packages"]) - {"agents"}
    assert set(client["source_modules"]) == modules | roots
    assert (agents / "kafka" / "produce.py").exists()

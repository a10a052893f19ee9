"""The Kafka behaviour the meter's exactly-once argument rests on, on the real broker."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def test_transactions_fence_abort_and_commit_offsets_on_the_real_broker(
    kafka_backend: None,
) -> None:
    from tests.integration.backends import bootstrap

    asyncio.run(_transaction_behaviour(bootstrap(), f"contract{uuid.uuid4().hex[:8]}"))


async def _transaction_behaviour(servers: str, name: str) -> None:
    topic, group = f"{name}.t", f"{name}.g"
    tp = TopicPartition(topic, 0)
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1), NewTopic(f"{name}.in", 1, 1)])
    finally:
        await admin.close()
    first = AIOKafkaProducer(bootstrap_servers=servers, transactional_id=name)
    await first.start()
    try:
        async with first.transaction():
            await first.send(topic, b"committed", partition=0)
            await first.send_offsets_to_transaction({TopicPartition(f"{name}.in", 0): 7}, group)
        await first.begin_transaction()
        await first.send(topic, b"aborted", partition=0)
        await first.abort_transaction()
        await first.begin_transaction()
        await first.send(topic, b"fenced", partition=0)
        second = AIOKafkaProducer(bootstrap_servers=servers, transactional_id=name)
        await second.start()  # fences the first and aborts its open transaction
        with pytest.raises(KafkaError):
            await asyncio.wait_for(first.commit_transaction(), 30)
        await second.stop()
    finally:
        await first.stop()
    reader = AIOKafkaConsumer(
        bootstrap_servers=servers, isolation_level="read_committed", group_id=group
    )
    await reader.start()
    try:
        reader.assign([tp])
        await reader.seek_to_beginning(tp)
        end = (await reader.end_offsets([tp]))[tp]
        values = []
        while await reader.position(tp) < end:
            values += [r.value for r in (await reader.getmany(tp, timeout_ms=1000)).get(tp, [])]
        assert values == [b"committed"]
        assert await reader.committed(TopicPartition(f"{name}.in", 0)) == 7
    finally:
        await reader.stop()

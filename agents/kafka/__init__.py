"""Everything that reads or changes Kafka client state lives in this package.

The roles (:mod:`agents.meter`, :mod:`agents.sink`) see only the records of
:mod:`agents.kafka.records` and the public methods of the two links: delivered
records per partition with their offsets, when a partition was last seen read to
its end, the opened partitions' restored state, checkpoint and acknowledge.

- **Meter** (:class:`agents.kafka.meter_link.MeterLink`): a consumer in the meter
  group with the range assignor, so partition *p* of every input topic goes to the
  same member. Each owned partition number has its own transactional producer
  (``transactional.id`` = group + *p*): starting it fences a previous owner and
  ends its open transaction, so the changelog and the committed offsets are final
  before the new owner reads them. A checkpoint sends the outputs, the changelog
  records and the consumed offsets in **one transaction**: state, outputs and
  offsets move together or not at all.
- **Sink** (:class:`agents.kafka.sink_link.SinkLink`): a ``read_committed``
  consumer group; offsets are committed after the rows are written (the tables
  are idempotent, so a re-delivery changes nothing).

A contract test (``tests/agents/test_kafka_contract.py``) pins the aiokafka
version and the client methods used here.
"""

"""Event schemas: one module per Kafka topic.

Every module holds frozen, slotted dataclasses with orjson ``decode`` and
``encode``. Validation raises :class:`schemas.fields.ValidationError`, which
names the field and a stable reason code (used as dead-letter reason and as a
metric label).
"""

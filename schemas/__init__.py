"""Event schemas: one module per Kafka topic.

Every module holds frozen msgspec structs with ``decode`` (a fast path in C, and a
checked path that names the reason) and ``encode``. Validation raises
:class:`schemas.fields.ValidationError`, which names the field and a stable reason
code (used as dead-letter reason and as a metric label).
"""

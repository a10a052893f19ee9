"""Sinks: where the meter's records go (ClickHouse), behind a small batching contract."""

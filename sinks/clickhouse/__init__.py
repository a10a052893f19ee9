"""ClickHouse: DDL and report SQL built by pure functions, and the sink backend."""

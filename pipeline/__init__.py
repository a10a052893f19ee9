"""billing-meter: usage metering from Kafka events to billing sessions in ClickHouse."""

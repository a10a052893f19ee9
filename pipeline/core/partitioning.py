"""Kafka's partitioners (SPEC section 2a): which partition a keyed message goes to.

Offline replay assigns each line to the partition a producer would give its key, so
that replay keeps the same per-partition stream times as the streaming workers.

- ``murmur2``: the Java client's default (``Utils.murmur2``, ``toPositive(hash) %
  numPartitions``), which aiokafka and ``produce`` use too; a test checks it against
  aiokafka's copy.
- ``crc32``: librdkafka's ``consistent`` partitioner, and for keyed messages its
  default ``consistent_random`` (confluent-kafka, kcat, the Go and .NET clients):
  CRC-32 (IEEE) of the key, unsigned, modulo the count; an integration test checks it
  against confluent-kafka on the real broker.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """The 32-bit murmur2 hash of ``data`` as Kafka computes it (a signed int)."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    tail = length & ~3
    for i in range(0, tail, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    left = length & 3
    if left == 3:
        h ^= data[tail + 2] << 16
    if left >= 2:
        h ^= data[tail + 1] << 8
    if left >= 1:
        h ^= data[tail]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a keyed message."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def crc32_partition_for(key: bytes, partitions: int) -> int:
    """The partition librdkafka's default partitioner gives a keyed message."""
    return zlib.crc32(key) % partitions


Partitioner = Callable[[bytes, int], int]
PARTITIONERS: dict[str, Partitioner] = {"murmur2": partition_for, "crc32": crc32_partition_for}

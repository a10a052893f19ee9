"""The metering core: SPEC sections 2-4 and 2a as pure, typed functions with no I/O.

It imports only :mod:`schemas`, msgspec (for its immutable structs) and the standard
library (enforced by the import-linter contracts in ``pyproject.toml``). It owns the
whole state model: conversations, seen event ids, stream times, forgetting and sweeps.
Offline replay and the streaming meter are thin adapters around it.
"""

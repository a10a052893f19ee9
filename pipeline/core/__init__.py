"""The metering core: SPEC sections 2-4 as pure, typed functions with no I/O.

It imports only :mod:`schemas` and the standard library (enforced by the
import-linter contracts in ``pyproject.toml``). The Faust agents, the offline
replay and the sinks are thin adapters around it.
"""

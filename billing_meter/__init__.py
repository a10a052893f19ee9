"""The composition root: the ``billing-meter`` CLI and the worker wiring.

It imports the rest (rules, stream roles, store, web); nothing imports it.
"""

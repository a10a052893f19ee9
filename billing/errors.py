"""Errors of billing commands, each with the HTTP status the API answers with."""

from __future__ import annotations


class BillingError(Exception):
    """A refused command: nothing was changed. ``status`` is the HTTP status."""

    status = 400


class InvalidError(BillingError):
    """Malformed input (400)."""

    status = 400


class ForbiddenError(BillingError):
    """The caller's role does not allow it (403)."""

    status = 403


class NotFoundError(BillingError):
    """An unknown plan, app, user or extension (404)."""

    status = 404


class ConflictError(BillingError):
    """Valid input that the current state refuses (409)."""

    status = 409

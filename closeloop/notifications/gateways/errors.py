"""How a delivery fails: worth another attempt later, or not."""

from __future__ import annotations


class DeliveryError(RuntimeError):
    """The message was not delivered this time; the outbox tries again after its backoff."""


class PermanentDeliveryError(DeliveryError):
    """Another attempt would fail the same way (a template the gateway does not know, a landline, a
    recipient who is not in WeCom): the outbox marks the row failed at once, for an administrator."""

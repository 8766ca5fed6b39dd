"""A small per-process cache for reference data read on every intake (types, products, SLA policies).

Entries live `ttl` seconds; saving or deleting a row of a watched model clears the cache in that
process at once (`watch`), and other processes see the change within the TTL. Configuration changes
therefore apply to new complaints within half a minute on every node.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")
TTL_SECONDS = 30.0

_entries: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def cached(key: str, loader: Callable[[], T], ttl: float = TTL_SECONDS) -> T:
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and now - entry[0] < ttl:
        return entry[1]
    value = loader()
    with _lock:
        _entries[key] = (now, value)
    return value


def clear(*_args: Any, **_kwargs: Any) -> None:
    with _lock:
        _entries.clear()


def watch(*model_classes: type[models.Model]) -> None:
    """Clear the cache whenever a row of these models is saved or deleted in this process."""
    for model in model_classes:
        post_save.connect(clear, sender=model, dispatch_uid=f"refcache-save-{model._meta.label}")
        post_delete.connect(clear, sender=model, dispatch_uid=f"refcache-delete-{model._meta.label}")

"""Append-only tables: the events, steps and audit rows written once and never changed or removed.

A correction is a new row. Saving a stored row again or deleting one raises AppendOnlyError, so a
slip in a service, the admin or a shell fails loudly instead of rewriting history.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError(f"{self._meta.label} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self._meta.label} rows are append-only")

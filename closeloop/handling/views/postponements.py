"""Desk pages for postponements."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []


def panel(request, complaint):  # type: ignore[no-untyped-def]
    """This area's panel on the complaint page (complaints/panels.py), or None."""
    return None

"""Panels other domains add to the complaint page.

Each provider is `provider(request, complaint) -> Panel | None`; the complaint page renders the
panels in `order` within their column. A domain adds its panel by naming its provider with
`panel_provider_add` in its AppConfig.ready(), so the complaint view never needs to know about tasks,
solutions or feedback forms (and complaints, below those packages, never name them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils.module_loading import import_string

from closeloop.complaints.models import Complaint


@dataclass
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 50
    column: str = "main"  # "main", "side" or "customer" (beside the complainant's card)


# Dotted paths of the providers, filled by the packages' AppConfig.ready() (handling, followup,
# improvement, defects); read on first use.
PANEL_PROVIDERS: list[str] = []


def panel_provider_add(path: str) -> None:
    if path not in PANEL_PROVIDERS:
        PANEL_PROVIDERS.append(path)


_providers: list[Callable[[HttpRequest, Complaint], Panel | None]] | None = None


def complaint_panels(request: HttpRequest, complaint: Complaint) -> dict[str, list[Panel]]:
    global _providers
    if _providers is None:
        _providers = [import_string(path) for path in PANEL_PROVIDERS]
    columns: dict[str, list[Panel]] = {"main": [], "side": [], "customer": []}
    for provider in _providers:
        panel = provider(request, complaint)
        if panel is not None:
            columns[panel.column].append(panel)
    for panels in columns.values():
        panels.sort(key=lambda p: p.order)
    return columns

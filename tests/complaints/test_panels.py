"""The panels other packages add to the complaint page are registered by those packages and exist."""

from __future__ import annotations

from django.utils.module_loading import import_string

from closeloop.complaints.panels import PANEL_PROVIDERS


def test_every_package_with_a_panel_registered_it() -> None:
    packages = {path.split(".")[1] for path in PANEL_PROVIDERS}
    assert packages == {"handling", "followup", "improvement", "defects", "serviceorders"}
    assert len(PANEL_PROVIDERS) == len(set(PANEL_PROVIDERS)) == 12


def test_every_registered_provider_is_a_function() -> None:
    for path in PANEL_PROVIDERS:
        assert callable(import_string(path)), path

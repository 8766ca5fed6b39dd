"""Desk URLs of the improvement app, mounted at /desk/improvement/ (namespace "improvement")."""

from closeloop.improvement.views import urlpatterns

app_name = "improvement"
__all__ = ["app_name", "urlpatterns"]

"""Desk URLs of the defects app, mounted at /desk/defects/ (namespace "defects")."""

from closeloop.defects.views import alerts, incidents, panel, rules

app_name = "defects"
urlpatterns = [*alerts.urlpatterns, *incidents.urlpatterns, *rules.urlpatterns, *panel.urlpatterns]

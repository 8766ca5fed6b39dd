"""Desk URLs of the defects app, mounted at /desk/defects/ (namespace "defects")."""

from closeloop.defects.views import alerts, home, incidents, panel, rules

app_name = "defects"
urlpatterns = [*alerts.urlpatterns, *home.urlpatterns, *incidents.urlpatterns, *rules.urlpatterns, *panel.urlpatterns]

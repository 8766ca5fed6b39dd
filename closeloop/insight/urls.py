"""Desk URLs of KPIs, the dashboard and the reports, mounted at /desk/insight/ (namespace "insight")."""

from closeloop.insight.views import dashboard, drilldowns, reports, service

app_name = "insight"
urlpatterns = [*dashboard.urlpatterns, *drilldowns.urlpatterns, *reports.urlpatterns, *service.urlpatterns]

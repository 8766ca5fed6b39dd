"""Desk URLs of cross-department handling, mounted at /desk/h/ (namespace "handling")."""

from closeloop.handling.views import bulk, disputes, feedback, homes, postponements, roster, solutions, tasks

app_name = "handling"
urlpatterns = [
    *tasks.urlpatterns,
    *roster.urlpatterns,
    *solutions.urlpatterns,
    *postponements.urlpatterns,
    *disputes.urlpatterns,
    *feedback.urlpatterns,
    *bulk.urlpatterns,
    *homes.urlpatterns,
]

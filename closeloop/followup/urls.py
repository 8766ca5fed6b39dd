"""Desk URLs of follow-up and closing, mounted at /desk/f/ (namespace "followup")."""

from closeloop.followup.views import closing, followups, repeats

app_name = "followup"
urlpatterns = [*followups.urlpatterns, *closing.urlpatterns, *repeats.urlpatterns]

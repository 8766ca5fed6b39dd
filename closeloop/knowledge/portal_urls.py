"""Portal URLs of the knowledge base, mounted at /portal/help/ (namespace "help")."""

from django.urls import path

from closeloop.knowledge import portal_views

app_name = "help"
urlpatterns = [
    path("", portal_views.help_list, name="list"),
    path("<int:pk>/", portal_views.help_detail, name="detail"),
]

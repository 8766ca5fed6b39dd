"""Desk URLs of triage, mounted at /desk/triage/ (namespace "triage")."""

from django.urls import path

from closeloop.triage import views

app_name = "triage"
urlpatterns = [
    path("suggest/", views.suggest, name="suggest"),
    path("similar/<str:number>/", views.similar, name="similar"),
    path("hazards/", views.hazards, name="hazards"),
    path("admin/", views.admin_page, name="admin"),
]

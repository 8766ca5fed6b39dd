"""Desk URLs of the defects app (namespace "defects")."""

from django.urls import URLPattern

app_name = "defects"
urlpatterns: list[URLPattern] = []

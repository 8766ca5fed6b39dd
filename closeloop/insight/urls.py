"""Desk URLs of the insight app (namespace "insight")."""

from django.urls import URLPattern

app_name = "insight"
urlpatterns: list[URLPattern] = []

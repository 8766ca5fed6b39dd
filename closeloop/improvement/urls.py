"""Desk URLs of the improvement app (namespace "improvement")."""

from django.urls import URLPattern

app_name = "improvement"
urlpatterns: list[URLPattern] = []

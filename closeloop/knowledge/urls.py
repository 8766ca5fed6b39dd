"""Desk URLs of the knowledge base, mounted at /desk/kb/ (namespace "knowledge")."""

from django.urls import path

from closeloop.knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_edit, name="create"),
    path("<int:pk>/", views.article_detail, name="detail"),
    path("<int:pk>/edit/", views.article_edit, name="edit"),
]

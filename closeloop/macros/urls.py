"""Desk URLs of canned replies, mounted at /desk/macros/ (namespace "macros")."""

from django.urls import path

from closeloop.macros import views

app_name = "macros"
urlpatterns = [
    path("", views.macro_list, name="list"),
    path("<int:pk>/", views.macro_list, name="edit"),
    path("<int:pk>/delete/", views.macro_delete, name="delete"),
    path("c/<str:number>/", views.complaint_picker, name="picker"),
    path("c/<str:number>/send/", views.complaint_send, name="send"),
]

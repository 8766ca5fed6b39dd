"""Desk URLs of service orders, mounted at /desk/service/ (namespace "serviceorders")."""

from django.urls import path

from closeloop.serviceorders import views

app_name = "serviceorders"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("register", views.register, name="register"),
    path("my-day", views.technician_day, name="day"),
    path("warehouse", views.warehouse, name="warehouse"),
    path("articles", views.article_choices, name="article_choices"),
    path("from-complaint/<str:number>", views.from_complaint, name="from_complaint"),
    path("<str:number>", views.detail, name="detail"),
    path("<str:number>/act", views.act, name="act"),
    path("<str:number>/attach", views.attach, name="attach"),
    path("<str:number>/clocks", views.clocks, name="clocks"),
]

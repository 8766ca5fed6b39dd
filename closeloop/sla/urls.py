from django.urls import path

from closeloop.sla import views

app_name = "sla"
urlpatterns = [path("", views.month, name="month")]

from django.urls import path

from closeloop.complaints import views

app_name = "desk"
urlpatterns = [
    path("", views.queue, name="queue"),
]

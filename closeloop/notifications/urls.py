from django.urls import path

from closeloop.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.mark_read, name="read"),
    path("channel/", views.channel_set, name="channel"),
]

from django.urls import path

from closeloop.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/open/", views.open_one, name="open"),
    path("read/", views.mark_read, name="read"),
    path("badge/", views.badge, name="badge"),
    path("channel/", views.channel_set, name="channel"),
]

from django.urls import path

from closeloop.portal import service, survey, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("receipt/<str:number>/", views.receipt, name="receipt"),
    path("status/", views.status, name="status"),
    path("status/<str:number>/", views.status_detail, name="status_detail"),
    path("status/<str:number>/add/", views.status_add, name="status_add"),
    path("survey/<str:token>/", survey.survey, name="survey"),
    path("service/", service.service_request, name="service_request"),
    path("service/status/", service.service_status, name="service_status"),
    path("service/status/<str:number>/", service.service_status_detail, name="service_status_detail"),
]

from django.urls import path

from closeloop.complaints import views

app_name = "desk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.register, name="register"),
    path("views/", views.saved_view_save, name="saved_view_save"),
    path("views/<int:pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("lookup/customers", views.lookup_customers, name="lookup_customers"),
    path("lookup/products", views.lookup_products, name="lookup_products"),
    path("c/<str:number>/", views.detail, name="detail"),
    path("c/<str:number>/changed/", views.changed, name="changed"),
    path("c/<str:number>/do/<str:action>/", views.transition, name="transition"),
    path("c/<str:number>/sla/<str:action>/", views.sla_action, name="sla_action"),
    path("c/<str:number>/write/", views.write, name="write"),
    path("c/<str:number>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]

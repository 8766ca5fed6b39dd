from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.sso.oidc_provider.views import put_user

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("openid/", include("oidc_provider.urls", namespace="oidc_provider")),
    path("testing/users/", put_user),
]

from django.contrib import admin
from django.urls import include, path

from closeloop.accounts.views.login import LoginView
from closeloop.api import api
from closeloop.complaints.views import home
from closeloop.sso.views import LogoutView

# What no view answered: an outage is a 503, anything else a 500 in the caller's format (JSON or a page);
# a request that cannot be parsed a 400, in JSON for the API.
handler400 = "closeloop.core.views.bad_request"
handler500 = "closeloop.core.views.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("sso/", include("closeloop.sso.urls")),
    path("", include("closeloop.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("desk/calendar/", include("closeloop.sla.urls")),
    path("desk/notifications/", include("closeloop.notifications.urls")),
    path("desk/h/", include("closeloop.handling.urls")),
    path("desk/f/", include("closeloop.followup.urls")),
    path("desk/insight/", include("closeloop.insight.urls")),
    path("desk/improvement/", include("closeloop.improvement.urls")),
    path("desk/defects/", include("closeloop.defects.urls")),
    path("desk/triage/", include("closeloop.triage.urls")),
    path("desk/service/", include("closeloop.serviceorders.urls")),
    path("desk/", include("closeloop.complaints.urls")),
    path("desk/kb/", include("closeloop.knowledge.urls")),
    path("desk/macros/", include("closeloop.macros.urls")),
    path("portal/help/", include("closeloop.knowledge.portal_urls")),
    path("portal/", include("closeloop.portal.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

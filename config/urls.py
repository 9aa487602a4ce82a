from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from config.api import api
from kynect.core.views import healthz, healthz_live, healthz_ready
from kynect.notifications.views import inbound_sms
from kynect.operations.views import metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/live", healthz_live, name="healthz_live"),
    path("healthz/ready", healthz_ready, name="healthz_ready"),
    path("metrics", metrics, name="metrics"),
    path("api/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("notifications/sms/inbound/", inbound_sms, name="inbound_sms"),
]

urlpatterns += i18n_patterns(
    path("", include("kynect.core.urls")),
    path("", include("kynect.directory.urls")),
    path("accounts/", include("kynect.accounts.urls")),
    path("ondemand/", include("kynect.ondemand.urls")),
    path("referrals/", include("kynect.referrals.urls")),
    path("", include("kynect.residents.urls")),
    path("", include("kynect.assessments.urls")),
    path("", include("kynect.reporting.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)

from django.urls import path

from kynect.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("health-coverage/", views.health_coverage, name="health_coverage"),
    path("help/", views.help_page, name="help"),
]

from django.urls import path

from kynect.directory import views, views_share

app_name = "directory"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("services/<uuid:service_id>/", views.service_detail, name="service_detail"),
    path("services/<uuid:service_id>/share/", views_share.service_share_page, name="service_share"),
]

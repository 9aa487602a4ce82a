from django.urls import path

from kynect.residents import views

app_name = "residents"

urlpatterns = [
    path("residents/<uuid:resident_id>/consent/", views.consent_manage, name="consent"),
    path("consent/<uuid:request_id>/<str:secret>/", views.consent_answer, name="consent_answer"),
]

from django.urls import path

from kynect.residents import views, views_detail, views_plan

app_name = "residents"

urlpatterns = [
    path("my-plan/", views_plan.my_plan, name="my_plan"),
    path("my-plan/print/", views_plan.my_plan_print, name="my_plan_print"),
    path("residents/<uuid:resident_id>/", views_detail.resident_detail, name="detail"),
    path(
        "residents/<uuid:resident_id>/notes/<uuid:note_id>/edit/",
        views_detail.resident_note_edit_view,
        name="note_edit",
    ),
    path("residents/<uuid:resident_id>/access-log/", views_detail.resident_access_log, name="access_log"),
    path("residents/<uuid:resident_id>/consent/", views.consent_manage, name="consent"),
    path("consent/<uuid:request_id>/<str:secret>/", views.consent_answer, name="consent_answer"),
    # Household, programs, notes, plan: after the pages above, whose names it would otherwise take.
    path(
        "residents/<uuid:resident_id>/<slug:part>/",
        views_detail.resident_list,
        name="list",
    ),
]

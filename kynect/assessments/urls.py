from django.urls import path

from kynect.assessments import views

app_name = "assessments"

urlpatterns = [
    path("assessments/", views.assessment_home, name="home"),
    path("assessments/begin/<slug:code>/", views.assessment_begin, name="begin"),
    path("assessments/session/", views.assessment_take_session, name="take_session"),
    path("assessments/session/result/", views.assessment_result_session, name="result_session"),
    path("assessments/<uuid:assessment_id>/", views.assessment_take, name="take"),
    path("assessments/<uuid:assessment_id>/result/", views.assessment_result, name="result"),
    path(
        "residents/<uuid:resident_id>/risk-factors/<slug:domain>/",
        views.risk_factor_history,
        name="risk_history",
    ),
    path(
        "residents/<uuid:resident_id>/assessments/new/",
        views.assessment_new_for_resident,
        name="new_for_resident",
    ),
]

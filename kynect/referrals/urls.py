from django.urls import path

from kynect.referrals import views, views_dashboard, views_specialist

app_name = "referrals"

urlpatterns = [
    path("new/", views.referral_new, name="new"),
    path("inbox/", views.referral_inbox, name="inbox"),
    path("outbox/", views.referral_outbox, name="outbox"),
    path("<uuid:referral_id>/", views.referral_detail, name="detail"),
    path("<uuid:referral_id>/act/<slug:action>/", views.referral_action, name="act"),
    path("<uuid:referral_id>/note/", views.referral_note, name="note"),
    path("<uuid:referral_id>/close/", views.referral_close, name="close"),
]

# The referral specialists' workspace and the partner referral dashboard.
urlpatterns += [
    path("specialist/", views_specialist.specialist_workspace, name="specialist"),
    path("specialist/expire/", views_specialist.specialist_expire, name="specialist_expire"),
    path(
        "specialist/<uuid:referral_id>/",
        views_specialist.specialist_outreach,
        name="specialist_outreach",
    ),
    path(
        "specialist/<uuid:referral_id>/outcome/",
        views_specialist.specialist_outcome_confirm,
        name="specialist_outcome_confirm",
    ),
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("dashboard/<uuid:organization_id>/", views_dashboard.dashboard, name="dashboard_organization"),
    path(
        "dashboard/<uuid:organization_id>/figures.csv",
        views_dashboard.dashboard_csv,
        name="dashboard_csv",
    ),
]

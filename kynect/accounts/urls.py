from django.urls import path

from kynect.accounts import views, views_onboarding

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("my-information/", views.my_information, name="my_information"),
    path("organization/users/", views.organization_users_index, name="organization_users_index"),
    path("organization/<uuid:organization_id>/users/", views.organization_users, name="organization_users"),
    path(
        "memberships/<uuid:membership_id>/deactivate/",
        views.membership_deactivate_view,
        name="membership_deactivate",
    ),
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("partners/apply/", views_onboarding.partner_apply, name="partner_apply"),
    path("partners/applied/", views_onboarding.partner_applied, name="partner_applied"),
    path("training/", views_onboarding.training, name="training"),
    path("onboarding/applications/", views_onboarding.applications, name="applications"),
    path("onboarding/applications/<uuid:organization_id>/", views_onboarding.application, name="application"),
    path(
        "onboarding/applications/<uuid:organization_id>/approve/",
        views_onboarding.application_approve,
        name="application_approve",
    ),
    path(
        "onboarding/applications/<uuid:organization_id>/decline/",
        views_onboarding.application_decline,
        name="application_decline",
    ),
    path("onboarding/state-users/", views_onboarding.state_users, name="state_users"),
]

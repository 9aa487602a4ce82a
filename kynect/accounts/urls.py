from django.urls import path

from kynect.accounts import views

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
]

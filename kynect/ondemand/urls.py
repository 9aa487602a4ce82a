from django.urls import path

from kynect.ondemand import views, views_oversight, views_referrals

app_name = "ondemand"

urlpatterns = [
    path("", views.home, name="home"),
    path("register/agree/", views.agree, name="agree"),
    path("register/contact/", views.contact, name="contact"),
    path("register/verify/", views.verify, name="verify"),
    path("register/verify/resend/", views.resend, name="resend"),
    path("register/schedule/", views.schedule, name="schedule"),
    path("availability/", views.availability, name="availability"),
    path("time-off/", views.time_off, name="time_off"),
    path("time-off/<uuid:time_off_id>/remove/", views.time_off_delete, name="time_off_remove"),
    path("helpers/", views.helpers_manage, name="helpers_manage"),
    path("helpers/<uuid:membership_id>/active/", views.helper_active_set, name="helper_active_set"),
]

# A resident's help request: public, no sign-in. The status and cancel pages open only with the
# requester's secret link.
urlpatterns += [
    path("help/", views.help_request, name="help"),
    path("help/sent/<uuid:request_id>/", views.help_request_sent, name="help_sent"),
    path("help/<uuid:request_id>/<str:token>/", views.help_request_status, name="help_status"),
    path("help/<uuid:request_id>/<str:token>/cancel/", views.help_request_cancel, name="help_cancel"),
]

# Helpers' referrals: the secret link from an offer message (its GET changes nothing), and the signed-in
# Referral Manager.
urlpatterns += [
    path("referrals/", views_referrals.referrals, name="referrals"),
    path("offer/<uuid:offer_id>/<str:token>/", views_referrals.offer_link, name="offer"),
]

# Oversight: agency admins and state administrators.
urlpatterns += [
    path("oversight/", views_oversight.oversight, name="oversight"),
]

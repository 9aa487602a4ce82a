from django.urls import path

from kynect.ondemand import (
    views,
    views_agency,
    views_help,
    views_offer_link,
    views_oversight,
    views_referrals,
)

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
    path("helpers/", views_agency.helpers_manage, name="helpers_manage"),
    path("helpers/<uuid:membership_id>/active/", views_agency.helper_active_set, name="helper_active_set"),
]

# A resident's help request: public, no sign-in. The status and cancel pages open only with the
# requester's secret link.
urlpatterns += [
    path("help/", views_help.help_request, name="help"),
    path("help/sent/<uuid:request_id>/", views_help.help_request_sent, name="help_sent"),
    path("help/<uuid:request_id>/<str:token>/", views_help.help_request_status, name="help_status"),
    path("help/<uuid:request_id>/<str:token>/cancel/", views_help.help_request_cancel, name="help_cancel"),
]

# Helpers' referrals: the secret link from an offer message (its GET changes nothing), and the signed-in
# Referral Manager.
urlpatterns += [
    path("referrals/", views_referrals.referrals, name="referrals"),
    path("referrals/offers/<uuid:offer_id>/accept/", views_referrals.referral_accept, name="referral_accept"),
    path("referrals/offers/<uuid:offer_id>/reject/", views_referrals.referral_reject, name="referral_reject"),
    path("referrals/<uuid:help_request_id>/", views_referrals.referral, name="referral"),
    path("referrals/<uuid:help_request_id>/call/", views_referrals.referral_call, name="referral_call"),
    path("referrals/<uuid:help_request_id>/dial/", views_referrals.referral_dial, name="referral_dial"),
    path(
        "referrals/<uuid:help_request_id>/complete/",
        views_referrals.referral_complete,
        name="referral_complete",
    ),
    path("offer/<uuid:offer_id>/<str:token>/", views_offer_link.offer_link, name="offer"),
    path(
        "offer/<uuid:offer_id>/<str:token>/accept/", views_offer_link.offer_link_accept, name="offer_accept"
    ),
    path(
        "offer/<uuid:offer_id>/<str:token>/reject/", views_offer_link.offer_link_reject, name="offer_reject"
    ),
    path(
        "offer/<uuid:offer_id>/<str:token>/passcode/",
        views_offer_link.offer_link_passcode,
        name="offer_passcode",
    ),
    path(
        "offer/<uuid:offer_id>/<str:token>/resend/", views_offer_link.offer_link_resend, name="offer_resend"
    ),
    path(
        "offer/<uuid:offer_id>/<str:token>/details/",
        views_offer_link.offer_link_details,
        name="offer_details",
    ),
    path(
        "offer/<uuid:offer_id>/<str:token>/details/call/",
        views_offer_link.offer_link_call,
        name="offer_details_call",
    ),
    path(
        "offer/<uuid:offer_id>/<str:token>/details/dial/",
        views_offer_link.offer_link_dial,
        name="offer_details_dial",
    ),
    path(
        "offer/<uuid:offer_id>/<str:token>/details/complete/",
        views_offer_link.offer_link_complete,
        name="offer_details_complete",
    ),
]

# Oversight: agency admins and state administrators.
urlpatterns += [
    path("oversight/", views_oversight.oversight, name="oversight"),
    path("oversight/dashboard/", views_oversight.dashboard, name="oversight_dashboard"),
    path(
        "oversight/requests/<uuid:request_id>/reassign/",
        views_oversight.reassign,
        name="oversight_reassign",
    ),
]

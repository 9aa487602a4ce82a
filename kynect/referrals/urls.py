from django.urls import path

from kynect.referrals import views

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

from django.urls import path

from kynect.referrals import views

app_name = "referrals"

urlpatterns = [
    path("<uuid:referral_id>/", views.referral_detail, name="detail"),
]

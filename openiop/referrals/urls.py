from django.urls import path

from openiop.referrals import views

app_name = "referrals"
urlpatterns = [
    path("refer/<slug:program_slug>/", views.refer, name="refer"),
    path("refer/<slug:program_slug>/thanks/", views.refer_done, name="refer_done"),
    path("refer/<slug:program_slug>/screening/", views.self_screen, name="self_screen"),
    path("consent/<token:token>/", views.consent, name="consent"),
    path("intake/referrals/", views.board, name="board"),
    path("intake/referrals/new/", views.new_referral, name="new"),
    path("intake/referrals/<id:referral_id>/", views.detail, name="detail"),
    path("intake/referrals/<id:referral_id>/screening/", views.screen, name="screen"),
    path("intake/referrals/<id:referral_id>/decide/", views.decide, name="decide"),
    path("intake/referrals/<id:referral_id>/consent-link/", views.send_consent, name="send_consent"),
    path("intake/referrals/<id:referral_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("intake/referrals/<id:referral_id>/close/", views.close, name="close"),
    path("intake/referrals/<id:referral_id>/enroll/", views.enroll, name="enroll"),
    path("me/consents/", views.my_consents, name="my_consents"),
    path("consents/<id:consent_id>/revoke/", views.revoke, name="revoke"),
]

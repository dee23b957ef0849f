from django.urls import path

from openiop.rooms import views

app_name = "rooms"

urlpatterns = [
    path("", views.sessions, name="sessions"),
    path("new/", views.new_session, name="new_session"),
    path("<id:session_id>/", views.room, name="room"),
    path("<id:session_id>/safety-check/", views.safety_check, name="safety_check"),
    path("<id:session_id>/attendance/", views.attendance, name="attendance"),
    path("<id:session_id>/finish/", views.finish, name="finish"),
    path("<id:session_id>/chat-to-note/", views.chat_to_note, name="chat_to_note"),
    path("attendance/<id:attendance_id>/correct/", views.correct, name="correct"),
]

from django.urls import path

from openiop.accounts.consumers import NotificationsConsumer
from openiop.rooms.consumers import RoomConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
    path("ws/rooms/<int:session_id>/", RoomConsumer.as_asgi()),
]

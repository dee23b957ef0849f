from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "openiop.rooms"
    label = "rooms"
    verbose_name = "Session rooms"

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "openiop.demo"
    label = "demo"

from django.apps import AppConfig


class LoginsConfig(AppConfig):
    name = "logins"
    verbose_name = "Log-in throttling"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks

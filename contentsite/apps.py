from django.apps import AppConfig


class ContentsiteConfig(AppConfig):
    """The project itself, installed so that its system checks (``contentsite.checks``) run everywhere."""

    name = "contentsite"
    verbose_name = "Content site"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks

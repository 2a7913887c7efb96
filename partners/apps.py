from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The system checks, the key scheme's OpenAPI description, and dropping a changed key from the cache.
        from . import checks, schema, signals  # noqa: F401

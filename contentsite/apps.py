from django.apps import AppConfig


class ContentsiteConfig(AppConfig):
    """The project itself: its system checks (``contentsite.checks``) and what a committed change must drop from the
    cache and purge from the proxy (``contentsite.models.PendingInvalidation``)."""

    name = "contentsite"
    verbose_name = "Site operations"

    def ready(self) -> None:
        from . import cache, checks, invalidation  # noqa: F401 - checks registers the system checks

        cache.before_asking_again(invalidation.owed_cache_keys)

from django.apps import AppConfig
from django.core import checks


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .checks import check_cache_settings, check_content_settings
        from .kinds import ContentKind, check_kinds, register
        from .models import ArticleKind
        from .sitemaps import LiveContentSitemap

        register(
            ContentKind(
                name=ArticleKind.ARTICLE,
                label=ArticleKind.ARTICLE.label,
                url_name="articles:detail",
                list_url_names=("articles:home",),
                sitemaps={"articles": LiveContentSitemap.of(ArticleKind.ARTICLE)},
            )
        )
        checks.register(check_kinds, checks.Tags.urls)
        checks.register(check_cache_settings, checks.Tags.caches)
        checks.register(check_content_settings)

        from django.db.models.signals import post_save

        from .live import public_changed, vocabulary_saved
        from .models import Medication, Symptom
        from .stored_pages import store_after_commit

        for model in (Medication, Symptom):
            post_save.connect(vocabulary_saved, sender=model, dispatch_uid=f"live-{model.__name__}")
        public_changed.connect(store_after_commit, dispatch_uid="stored-pages")

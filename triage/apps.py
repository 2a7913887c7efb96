from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "Triage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from pathlib import Path

        from articles.demo.loading import register_demo_source

        from . import checks  # noqa: F401 - registers the system checks
        from .interchange import PATHWAY_FORMAT
        from .kind import register_pathways

        register_pathways()
        register_demo_source(Path(__file__).resolve().parent / "demo", PATHWAY_FORMAT)

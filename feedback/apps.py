from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Reader feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from articles import revision_notes

        from . import checks  # noqa: F401 - registers the system check of FEEDBACK_RATE
        from .presentation import feedback_note

        revision_notes.register("feedback", feedback_note())

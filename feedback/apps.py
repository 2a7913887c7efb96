from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Reader feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from articles import revision_notes
        from articles.dashboard import register_dashboard_item

        from . import checks  # noqa: F401 - registers the system check of FEEDBACK_RATE
        from .dashboard import feedback_to_handle
        from .presentation import feedback_note

        revision_notes.register("feedback", feedback_note())
        register_dashboard_item(feedback_to_handle())

"""Count the live articles from scratch: ``manage.py rebuild_live_tallies``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from articles.live import public_change
from articles.models import fill_live_symptom_tallies, fill_live_tallies


class Command(BaseCommand):
    help = (
        "Recount the live tallies the home page, the symptom pages and the partners' vocabulary lists read from the "
        "recorded live revisions, "
        "e.g. after a write that bypassed the services. Safe to run anywhere at any time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            # Locks the public clock's row first, as every public change does: two runs (on two
            # machines) and the services take turns, and each run counts what the last commit left.
            # It also moves the clock, so pages cached with the old counts are worked out again.
            public_change([], live_set_changed=False)
            counted = fill_live_tallies()
            shown = fill_live_symptom_tallies()
        self.stdout.write(f"Counted {counted} pieces of live content, of every kind, showing symptoms {shown} times.")

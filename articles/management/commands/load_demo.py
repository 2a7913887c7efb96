from django.conf import settings
from django.core.management.base import BaseCommand

from articles.demo.loading import (
    DEMO_ACCOUNTS,
    DEMO_PARTNER,
    DEMO_PASSWORD,
    ensure_demo_accounts,
    ensure_demo_partner,
    load_demo_content,
)
from articles.notifications import quiet


class Command(BaseCommand):
    help = (
        "Load the demo content through the review workflow and, outside production, the local demo accounts. "
        "Safe to run again: nothing changes the second time."
    )

    def handle(self, *args: object, **options: object) -> None:
        created = ensure_demo_accounts()
        with quiet():  # the demo's own steps through the workflow are no one's turn: no emails
            loaded = load_demo_content()
        partner_created = ensure_demo_partner()
        if partner_created:
            self.stdout.write(
                f"Created the partner {DEMO_PARTNER!r}; make a key with: manage.py create_partner_key {DEMO_PARTNER!r}"
            )
        for account in created:
            self.stdout.write(f"Created demo account {account.username}.")
        for slug, what in loaded:
            self.stdout.write(f"Demo content {slug}: {what}.")
        if not created and not loaded and not partner_created:
            self.stdout.write("Demo content and accounts are already loaded; nothing changed.")
        if settings.DEMO_ACCOUNTS_ENABLED:
            self.stdout.write("")
            self.stdout.write("Demo accounts, for local use only. Sign in at /admin/ with:")
            for account in DEMO_ACCOUNTS:
                self.stdout.write(f"  {account.username:<15} password {DEMO_PASSWORD}   ({account.role})")
        else:
            self.stdout.write("Demo accounts are disabled in these settings.")

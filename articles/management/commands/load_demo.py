from django.conf import settings
from django.core.management.base import BaseCommand

from articles.demo.loading import DEMO_ACCOUNTS, DEMO_PASSWORD, ensure_demo_accounts, load_demo_content


class Command(BaseCommand):
    help = "Load the demo content and, outside production, the local demo accounts. Safe to run again."

    def handle(self, *args: object, **options: object) -> None:
        created = ensure_demo_accounts()
        loaded = load_demo_content()
        for account in created:
            self.stdout.write(f"Created demo account {account.username}.")
        for slug in loaded:
            self.stdout.write(f"Loaded and published demo article {slug}.")
        if not created and not loaded:
            self.stdout.write("Demo content and accounts are already loaded; nothing changed.")
        if settings.DEMO_ACCOUNTS_ENABLED:
            self.stdout.write("")
            self.stdout.write("Demo accounts, for local use only (admin at /admin/):")
            for account in DEMO_ACCOUNTS:
                self.stdout.write(f"  {account.username:<16} password {DEMO_PASSWORD:<26} {account.role}")
        else:
            self.stdout.write("Demo accounts are disabled in these settings.")

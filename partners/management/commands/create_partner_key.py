from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from partners.models import Partner
from partners.services import partner_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for a partner and print it; the key alone is on the last line. "
        "It is shown only now: only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("partner_name", help="The partner's name, as in the admin.")
        parser.add_argument("--create", action="store_true", help="Create the partner if it does not exist.")
        parser.add_argument("--name", default="", help="A label for the key (at most 50 characters).")
        parser.add_argument("--expires", help="Expiry time, ISO 8601 (e.g. 2027-12-31T23:59:59Z).")

    def handle(
        self, *args: object, partner_name: str, create: bool, name: str, expires: str | None, **options: object
    ) -> None:
        partner = Partner.objects.filter(name=partner_name).first()
        if partner is None:
            if not create:
                raise CommandError(f"No partner named {partner_name!r}. Add it in the admin, or pass --create.")
            partner = Partner.objects.create(name=partner_name)
        if not partner.is_active:
            raise CommandError(f"The partner {partner_name!r} is inactive.")
        expires_at = None
        if expires:
            expires_at = parse_datetime(expires)
            if expires_at is None or expires_at.tzinfo is None:
                raise CommandError("--expires must be an ISO 8601 time with a time zone, e.g. 2027-12-31T23:59:59Z.")
        try:
            api_key, key = partner_key_create(partner=partner, name=name, expires_at=expires_at)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(f"Created key {api_key.prefix} for {partner.name}. Store it now; it will not be shown again.")
        self.stdout.write(key)

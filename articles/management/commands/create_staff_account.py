from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from articles.models import ReviewerProfile

# The role groups the data migration ``0004_roles`` creates, by the name used on the command line.
ROLES = {"author": "Authors", "reviewer": "Clinical reviewers", "publisher": "Publishers"}


class Command(BaseCommand):
    help = (
        "Create a member of staff with one or more workflow roles (author, reviewer, publisher). "
        "A reviewer gets the public profile readers see next to every review, so its four fields are required. "
        "The account has no password until you set one with: manage.py changepassword USERNAME."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", action="append", choices=sorted(ROLES), required=True, dest="roles")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--display-name", default="", help="Reviewer: as readers see it, e.g. 'Dr Jane Smith'.")
        parser.add_argument("--credentials", default="", help="Reviewer: e.g. 'MBBS, MRCP, consultant neurologist'.")
        parser.add_argument("--registration-body", default="", help="Reviewer: e.g. 'General Medical Council'.")
        parser.add_argument("--registration-number", default="", help="Reviewer: the number on that register.")

    def handle(self, *args: object, username: str, email: str, roles: list[str], **options: str) -> None:
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} exists already; change it in the admin.")
        groups = list(Group.objects.filter(name__in=[ROLES[role] for role in roles]))
        if len(groups) != len(set(roles)):
            raise CommandError("The role groups are missing: run manage.py migrate first.")
        try:
            with transaction.atomic():
                user = User(
                    username=username,
                    email=email,
                    first_name=options["first_name"],
                    last_name=options["last_name"],
                    is_staff=True,
                )
                user.set_unusable_password()
                user.full_clean()
                user.save()
                user.groups.add(*groups)
                if "reviewer" in roles:
                    profile = ReviewerProfile(
                        user=user,
                        display_name=options["display_name"],
                        credentials=options["credentials"],
                        registration_body=options["registration_body"],
                        registration_number=options["registration_number"],
                    )
                    profile.full_clean()
                    profile.save()
        except ValidationError as error:
            problems = [f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()]
            raise CommandError("Not created. " + "; ".join(problems)) from None
        self.stdout.write(
            f"Created {username} ({', '.join(ROLES[role] for role in roles)}). "
            f"Set a password with: manage.py changepassword {username}"
        )

import json

from django.core.management.base import BaseCommand

from triage.interchange import SCHEMA


class Command(BaseCommand):
    help = "Print the JSON Schema of the triage pathway format (docs/pathway-format-v1.schema.json)."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(json.dumps(SCHEMA, indent=2, ensure_ascii=False))

import json

from django.core.management.base import BaseCommand

from articles.interchange.schema import SCHEMA


class Command(BaseCommand):
    help = "Print the JSON Schema of the article interchange format (docs/article-format-v1.schema.json)."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(json.dumps(SCHEMA, indent=2, ensure_ascii=False))

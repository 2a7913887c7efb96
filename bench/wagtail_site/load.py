"""Create the two pages the bench serves, /demo/ and /long/, from the texts given as JSON on stdin.

Input: {"pages": [{"slug", "title", "summary", "blocks": [[type, text], ...]}, ...]}. Pages of
those slugs are replaced, so running it again leaves the same two pages.
"""

import json
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    import django

    django.setup()
    from benchpages.models import ArticlePage
    from django.core.management import call_command
    from wagtail.models import Page, Site

    call_command("migrate", verbosity=0)
    home = Site.objects.get(is_default_site=True).root_page
    for page in json.load(sys.stdin)["pages"]:
        Page.objects.filter(slug=page["slug"]).delete()
        child = ArticlePage(title=page["title"], slug=page["slug"], summary=page["summary"])
        child.body = [(kind, text) for kind, text in page["blocks"]]
        home.add_child(instance=child)
        child.save_revision().publish()
    print("ok")


if __name__ == "__main__":
    main()

"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    """The site's name and public address, for the layout and canonical links."""
    return {"SITE_NAME": settings.SITE_NAME, "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL}

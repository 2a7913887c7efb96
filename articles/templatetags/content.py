from django import template
from django.utils.safestring import SafeString, mark_safe

from articles.rendering import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Render Markdown, sanitised with nh3 (see ``articles.rendering``)."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitised by nh3

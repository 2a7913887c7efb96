"""One page model: a title, a summary and a StreamField of headings and paragraphs."""

from django.db import models
from wagtail import blocks
from wagtail.fields import StreamField
from wagtail.models import Page


class ArticlePage(Page):
    summary = models.TextField(blank=True)
    body = StreamField(
        [("heading", blocks.CharBlock()), ("paragraph", blocks.TextBlock())],
        blank=True,
    )

"""The article page writes its content parts in Python: the markup must be what the template loops wrote."""
# ruff: noqa: E501 - the template loops are quoted verbatim

from __future__ import annotations

import pytest
from django.template import engines

from articles import presentation
from articles.memo import forget_all as forget_memos
from articles.models import Revision
from articles.presentation import (
    build_article_page,
    content_parts,
    load_article_page,
    page_views,
)
from articles.rendering import MEMO_MAX_CHARS, CitationNumbers, render_markdown, render_markdown_inline
from articles.structured_data import json_ld_script, medical_web_page
from tests.factories import article_document, demo_document, every_branch_document

pytestmark = pytest.mark.django_db

# The loops ``articles/article_detail.html`` had before its content parts were written in Python.
TEMPLATE_LOOPS = {
    "callouts_html": """{% for callout in page.callouts %}
      <aside class="callout callout--{{ callout.kind }}" aria-labelledby="callout-{{ callout.key }}">
        <h2 class="callout__title" id="callout-{{ callout.key }}">{{ callout.title }}</h2>
        <p>{{ callout.html }}</p>
      </aside>
    {% endfor %}""",
    "toc_html": """{% for section in page.sections %}<li><a href="#{{ section.anchor }}">{{ section.heading }}</a></li>{% endfor %}""",
    "sections_html": """{% for section in page.sections %}
      <section class="article-section" id="{{ section.anchor }}" aria-labelledby="{{ section.anchor }}-heading">
        <h2 id="{{ section.anchor }}-heading">{{ section.heading }}</h2>
        {{ section.html }}
        {% if section.symptoms %}
          <ul class="symptom-list">
            {% for symptom in section.symptoms %}<li>{{ symptom.html }} <span class="symptom-frequency">{{ symptom.note }}</span>{% if symptom.url %} <a class="symptom-link" href="{{ symptom.url }}">Articles that mention {{ symptom.title }}</a>{% endif %}</li>{% endfor %}
          </ul>
        {% endif %}
        {% for table in section.tables %}
          <div class="table-scroll" role="region" aria-label="Table: {{ table.caption }}" tabindex="0">
            <table class="comparison" role="table">
              <caption id="table-{{ table.key }}-caption">{{ table.caption }}</caption>
              <thead role="rowgroup">
                <tr role="row">
                  <th scope="col" role="columnheader">{{ table.feature_heading }}</th>
                  {% for heading in table.columns %}<th scope="col" role="columnheader">{{ heading }}</th>{% endfor %}
                </tr>
              </thead>
              <tbody role="rowgroup">
                {% for feature, cells in table.rows %}
                  <tr role="row">
                    <th scope="row" role="rowheader">{{ feature }}</th>
                    {% for heading, text in cells %}<td role="cell" data-label="{{ heading }}">{{ text }}</td>{% endfor %}
                  </tr>
                {% endfor %}
              </tbody>
            </table>
          </div>
        {% endfor %}
        {% if section.actions %}
          <ul class="action-list">
            {% for action in section.actions %}
              <li><strong>{{ action.title }}{% if action.html %}:{% endif %}</strong> {{ action.html }}</li>
            {% endfor %}
          </ul>
        {% endif %}
      </section>
    {% endfor %}""",
    "references_html": """{% for item in page.references %}{% with ref=item.reference %}
            <li id="{{ item.anchor }}" value="{{ item.number }}">
              {% if ref.authors %}{{ ref.authors }}. {% endif %}
              {% if ref.title %}<cite>{{ ref.title }}</cite>. {% endif %}
              {{ item.source_details }}
              {% if ref.publisher %}{{ ref.publisher }}.{% endif %}
              {% if ref.doi %}<a href="{{ item.doi_url }}">doi:{{ ref.doi }}</a>.{% endif %}
              {% if ref.pmid %}<a href="{{ item.pubmed_url }}">PMID: {{ ref.pmid }}</a>.{% endif %}
              {% if ref.url %}<a href="{{ ref.url }}">{{ ref.url }}</a>{% if ref.accessed_on %} (accessed <time datetime="{{ ref.accessed_on|date:'Y-m-d' }}">{{ ref.accessed_on|date:"j F Y" }}</time>){% endif %}.{% endif %}
              <span class="reference__meta">{{ ref.get_publication_type_display }} · Evidence: {{ ref.get_evidence_level_display|lower }}</span>
              {% if ref.needs_verification %}
                <span class="needs-verification"><strong>Citation needs verification.</strong> {{ ref.verification_note }}</span>
              {% endif %}
            </li>
          {% endwith %}{% endfor %}""",
}  # fmt: skip


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(demo_document, id="demo"),
        pytest.param(every_branch_document, id="every-branch"),
        pytest.param(lambda: article_document(sections=30, references=50, rows=40, columns=6, symptoms=25), id="large"),
    ],
)
def test_the_content_parts_are_the_markup_the_template_loops_wrote(workflow, document):
    live = workflow.live(document())
    revision = Revision.objects.with_content().get(pk=live.pk)
    parts, views = content_parts(revision), page_views(revision)
    django = engines["django"]
    for part, loops in TEMPLATE_LOOPS.items():
        assert getattr(parts, part) == django.from_string(loops).render({"page": views}), part


def test_the_page_shows_the_escaped_and_sanitised_parts(client, workflow):
    workflow.live(every_branch_document())
    html = client.get("/articles/every-branch/").content.decode()
    assert '<h2 id="section-section-1-heading">Quotes &quot;x&quot; &amp; &lt;y&gt; &#x27;z&#x27;</h2>' in html
    assert 'aria-label="Table: Cap &quot;q&quot; &amp; &lt;x&gt;"' in html
    assert '<td role="cell" data-label="Column 2">cell &lt;i&gt;&amp;&quot;&#x27;</td>' in html
    assert "<script>alert" not in html and 'href="javascript' not in html
    assert '(accessed <time datetime="2024-03-05">5 March 2024</time>).' in html
    assert "<strong>T &amp; &lt;t&gt;:</strong>" in html


# The loop ``articles/article_detail.html`` had before its links to other kinds of content were written in Python.
LINKED_LOOP = """{% for heading, revisions in linked %}
      <section class="callout callout--information linked-content" aria-labelledby="linked-heading-{{ forloop.counter }}">
        <h2 class="callout__title" id="linked-heading-{{ forloop.counter }}">{{ heading }}</h2>
        <ul>
          {% for linked_revision in revisions %}
            <li><a href="{{ linked_revision.url }}">{{ linked_revision.title }}</a></li>
          {% endfor %}
        </ul>
      </section>
    {% endfor %}"""  # fmt: skip


@pytest.mark.parametrize(
    "groups",
    [
        [],
        [("Check your symptoms", [("/triage/a/", "A pathway")])],
        [
            ('Quotes "x" & <y>', [("/triage/a/?x=1&y=2", "<b>one</b> & 'two'"), ("/triage/b/", "Two")]),
            ("Second", [("/other/c/", "Three")]),
        ],
    ],
    ids=["none", "one", "escaped"],
)
def test_the_links_by_symptom_are_the_markup_the_template_loop_wrote(groups):
    linked = [(heading, [{"url": url, "title": title} for url, title in links]) for heading, links in groups]
    assert presentation.linked_html(groups) == engines["django"].from_string(LINKED_LOOP).render({"linked": linked})


# ``articles/_review_panel.html``, which the article page (and a draft's preview) included before the panel was
# written in Python.
REVIEW_PANEL_TEMPLATE = """{% with review=revision.current_review %}
{% if review %}
  <aside class="review-panel{% if review.reviewer_is_demonstration %} review-panel--demo{% endif %}" aria-label="Clinical review">
    <p>Reviewed by <strong>{{ review.reviewer_name }}</strong>, {{ review.reviewer_credentials }}
      on <time datetime="{{ review.reviewed_at|date:'Y-m-d' }}">{{ review.reviewed_at|date:"j F Y" }}</time>
      · Next review due <time datetime="{{ review.next_review_due|date:'Y-m-d' }}">{{ review.next_review_due|date:"j F Y" }}</time></p>
    {% if review.reviewer_is_demonstration %}
      <p><strong>Demonstration only:</strong> this review was recorded by a demonstration account, not by a real
        clinician. The content has not been clinically reviewed.</p>
    {% endif %}
    {% if review.is_overdue %}
      <p><strong>This article is due for review.</strong> It was last reviewed more than its review interval ago.</p>
    {% endif %}
    <p class="review-panel__dates">Published <time datetime="{{ revision.live_from|date:'c' }}">{{ revision.live_from|date:"j F Y" }}</time>
      {% if not preview %}· <a href="{% url 'articles:history' revision.article.slug %}">Page history</a>{% endif %}</p>
  </aside>
{% else %}
  <aside class="review-panel review-panel--unreviewed" aria-label="Clinical review">
    <p><strong>Not yet clinically reviewed.</strong> A clinician has not yet reviewed this content.
      Talk to your doctor or pharmacist before acting on it.</p>
    {% if revision.live_from %}<p class="review-panel__dates">Published <time datetime="{{ revision.live_from|date:'c' }}">{{ revision.live_from|date:"j F Y" }}</time></p>{% endif %}
  </aside>
{% endif %}
{% endwith %}
"""  # fmt: skip


@pytest.mark.parametrize("preview", [False, True], ids=["page", "preview"])
@pytest.mark.parametrize("variant", ["reviewed", "demonstration-late-evening", "overdue", "unreviewed", "draft"])
def test_the_review_panel_is_the_markup_its_template_wrote(workflow, variant, preview, settings):
    import datetime

    settings.TIME_ZONE = "Europe/London"

    from articles.models import ClinicalReview

    revision = workflow.draft(slug="drafted") if variant == "draft" else workflow.live(slug="panelled")
    reviews = ClinicalReview.objects.filter(revision=revision)
    if variant == "demonstration-late-evening":  # the next day in London: shown in the site's time zone
        late = datetime.datetime(2025, 6, 30, 23, 30, tzinfo=datetime.UTC)
        reviews.update(reviewer_is_demonstration=True, reviewer_name='Dr <O\'Neil> & "co"', reviewed_at=late)
    elif variant == "overdue":
        reviews.update(next_review_due=datetime.date(2020, 1, 2))
    elif variant == "unreviewed":
        reviews.delete()
    revision = Revision.objects.select_related("article").with_review().get(pk=revision.pk)
    expected = engines["django"].from_string(REVIEW_PANEL_TEMPLATE).render({"revision": revision, "preview": preview})
    assert presentation.review_panel_html(revision, preview=preview) == expected
    assert ("review-panel--demo" in expected) == (variant == "demonstration-late-evening")
    assert ('<time datetime="2025-07-01">1 July 2025</time>' in expected) == (variant == "demonstration-late-evening")
    assert ("due for review" in expected) == (variant == "overdue")
    assert ("Not yet clinically reviewed" in expected) == (variant in {"unreviewed", "draft"})


# --- Memoised content parts --------------------------------------------------------------


def test_a_page_rendered_again_reads_only_the_revision_and_its_reviews(workflow, django_assert_num_queries):
    live = workflow.live(every_branch_document())
    first = load_article_page(live.pk)
    with django_assert_num_queries(2):  # the revision with its medication, and its reviews
        again = load_article_page(live.pk)
    assert again.parts is first.parts
    revision = Revision.objects.with_content().with_review().get(pk=live.pk)
    built = build_article_page(revision)
    assert again.parts == built.parts
    assert again.symptom_ids == tuple(entry.symptom_id for entry in revision.symptom_entries.all())
    revision.first_published_at = again.revision.first_published_at
    assert again.json_ld == json_ld_script(medical_web_page(revision))


def test_a_draft_is_never_memoised(workflow):
    draft = workflow.draft(slug="drafted")
    first = load_article_page(draft.pk)
    assert load_article_page(draft.pk).parts is not first.parts  # its content may change: read it every time


def test_the_memo_forgets_the_least_recently_used_pages_beyond_its_budget(workflow, monkeypatch):
    first, second = workflow.live(slug="first"), workflow.live(slug="second", medication="secondamol")
    parts = load_article_page(first.pk).parts
    size = len(parts.callouts_html) + len(parts.toc_html) + len(parts.sections_html) + len(parts.references_html)
    forget_memos()
    monkeypatch.setattr(presentation._memo, "max_chars", size + 10)  # room for one page
    kept = load_article_page(first.pk).parts
    assert load_article_page(first.pk).parts is kept
    newer = load_article_page(second.pk).parts
    assert load_article_page(second.pk).parts is newer
    assert load_article_page(first.pk).parts is not kept  # forgotten to make room


# --- The rendering memo ------------------------------------------------------------------


def test_markdown_is_rendered_once_per_text_and_numbers():
    numbers = CitationNumbers({"a": 1, "b": 2})
    text = "A body citing [@b] and [@a], rendered by every page and payload that shows it."
    first = render_markdown(text, numbers)
    assert render_markdown(text, CitationNumbers({"a": 1, "b": 2})) is first  # an equal numbering finds it
    assert render_markdown(text, {"a": 1, "b": 2}) is first  # so does a plain mapping
    assert render_markdown_inline(text, numbers) != first  # inline is another rendering


def test_the_memo_keeps_renderings_with_other_numbers_apart():
    text = "Cites [@a]."
    assert ">1</a>" in render_markdown(text, {"a": 1})
    assert ">2</a>" in render_markdown(text, {"a": 2})
    assert "unresolved citation a" in render_markdown(text)


def test_long_texts_are_rendered_each_time_so_the_memo_stays_small():
    text = "word " * (MEMO_MAX_CHARS // 5 + 1)
    assert render_markdown(text) == render_markdown(text)
    assert render_markdown(text) is not render_markdown(text)
    short = "word " * 10
    assert render_markdown(short) is render_markdown(short)

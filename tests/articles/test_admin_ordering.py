"""Rows are ordered without typing numbers: the page sends the order, the server numbers the rows."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from articles.models import AuditAction, AuditEntry, Revision
from tests.articles.test_admin import change_url, form_data

pytestmark = pytest.mark.django_db


def headings(revision: Revision) -> list[tuple[str, int]]:
    return list(revision.sections.order_by("position").values_list("heading", "position"))


def test_no_position_is_typed_the_field_is_hidden(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    html = client.get(change_url(draft)).content.decode()
    assert '<input type="hidden" name="sections-0-position" value="1"' in html
    assert 'type="number" name="sections-0-position"' not in html
    assert 'name="_move" value="sections-0:up"' in html and 'name="_move" value="sections-2:down"' in html


def test_the_server_numbers_rows_in_the_order_the_page_sent(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    data = form_data(client, draft)
    # The script renumbered the rows after the third was dragged to the top.
    data.update({"sections-0-position": "2", "sections-1-position": "3", "sections-2-position": "1"})
    assert client.post(change_url(draft), data).status_code == 302
    assert headings(draft) == [("Heading 3", 1), ("Heading 1", 2), ("Heading 2", 3)]


def test_move_up_without_the_script_saves_the_page_and_moves_the_row(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    data = form_data(client, draft)
    del data["_continue"]
    data["_move"] = "sections-1:up"
    data["sections-2-body"] = "An edit made before pressing the button [@ref-1]."
    response = client.post(change_url(draft), data)
    assert response.status_code == 302
    assert response["Location"] == change_url(draft) + "#sections-group"
    assert headings(draft) == [("Heading 2", 1), ("Heading 1", 2), ("Heading 3", 3)]
    assert draft.sections.get(key="section-3").body == "An edit made before pressing the button [@ref-1]."
    # At the edge nothing moves; a made-up button changes nothing either.
    for move in ["sections-0:up", "sections-2:down", "sections-9:up", "nonsense", "sections-1:sideways"]:
        data = form_data(client, draft)
        del data["_continue"]
        data["_move"] = move
        assert client.post(change_url(draft), data).status_code == 302
        assert headings(draft) == [("Heading 2", 1), ("Heading 1", 2), ("Heading 3", 3)]


class BrowserForm(HTMLParser):
    """What a browser without scripts posts for the page's change form: every field as rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and a.get("id") == "revision_form":
            self._in_form = True
        if tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        if not self._in_form or "name" not in a or "__prefix__" in a["name"]:
            return
        if tag == "input" and a.get("type") not in {"submit", "checkbox"}:
            self.data[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.data[a["name"]] = a.get("value", "on")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
            self.data[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data.removeprefix("\n") if not self.data[self._textarea] else data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def test_a_move_alone_is_a_change_that_is_saved_and_audited(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    page = BrowserForm()
    page.feed(client.get(change_url(draft)).content.decode())
    data = dict(page.data)
    data["_move"] = "sections-2:up"
    response = client.post(change_url(draft), data)
    assert response.status_code == 302, response.context["errors"]
    assert headings(draft) == [("Heading 1", 1), ("Heading 3", 2), ("Heading 2", 3)]
    save = AuditEntry.objects.filter(revision=draft, action=AuditAction.SAVE_DRAFT).last()
    assert save.data["changed"] == ["sections"]


def test_new_rows_go_at_the_end_and_deleting_a_row_closes_the_gap(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    data = form_data(client, draft)
    data["sections-TOTAL_FORMS"] = 5
    data.update({"sections-3-heading": "New A", "sections-3-body": "New A body.", "sections-3-position": ""})
    data.update({"sections-4-heading": "New B", "sections-4-body": "New B body."})
    data["sections-1-DELETE"] = "on"
    data["sections-1-body"] = "Body 2 [@ref-1]."
    data["sections-0-body"] = "Body 1 [@ref-1]."
    response = client.post(change_url(draft), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert headings(draft) == [("Heading 1", 1), ("Heading 3", 2), ("New A", 3), ("New B", 4)]


def test_a_blank_row_numbered_by_the_script_is_still_blank(client, workflow, author):
    draft = workflow.draft()
    client.force_login(author)
    data = form_data(client, draft)
    data["sections-TOTAL_FORMS"] = 4
    data["sections-3-position"] = "4"  # added, never filled, then another row was moved
    assert client.post(change_url(draft), data).status_code == 302
    assert draft.sections.count() == 3


def test_table_columns_and_rows_are_ordered_the_same_way(client, workflow, author):
    draft = workflow.draft()
    table = draft.comparison_tables.get()
    url = f"/admin/articles/comparisontable/{table.pk}/change/"
    client.force_login(author)
    context = client.get(url).context
    data: dict[str, object] = {"lock_version_seen": 0}
    for inline in context["inline_admin_formsets"]:
        for form in [inline.formset.management_form, *inline.formset.forms]:
            for name in form.fields:
                value = form[name].value()
                if value is not None:
                    data[form.add_prefix(name)] = value
    before = list(table.rows.order_by("position").values_list("feature", flat=True))
    data["_move"] = "rows-2:up"
    assert client.post(url, data).status_code == 302
    after = list(table.rows.order_by("position").values_list("feature", flat=True))
    assert after == [before[0], before[2], before[1]]
    assert list(table.rows.order_by("position").values_list("position", flat=True)) == [1, 2, 3]
    html = client.get(url).content.decode()
    assert 'role="region"' in html and 'class="table-scroll"' in html


def inline_group(html: str, prefix: str) -> str:
    """The markup of one inline group (``<div ... id="<prefix>-group">`` to its closing tag)."""
    start = html.index(f'id="{prefix}-group"')
    start = html.rindex("<div", 0, start)
    depth = 0
    for tag in re.finditer(r"<div\b|</div>", html[start:]):
        depth += 1 if tag.group() != "</div>" else -1
        if depth == 0:
            return html[start : start + tag.end()]
    raise AssertionError(f"{prefix}-group is not closed")


def header_texts(group: str) -> list[str]:
    return [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<th\b[^>]*>(.*?)</th>", group, re.S)]


def test_a_tables_lists_extend_the_accessible_inline_and_name_each_row(client, workflow, author):
    """The article lists' table (admin/articles/edit_inline/tabular.html) is the accessible tabular inline
    with a fold, move buttons and labels that name the row; a read-only list has no empty delete column."""
    draft = workflow.draft()
    table = draft.comparison_tables.get()
    column = table.columns.order_by("position").first()
    client.force_login(author)
    html = client.get(f"/admin/articles/comparisontable/{table.pk}/change/").content.decode()
    columns = inline_group(html, "columns")
    assert 'class="js-inline-admin-formset inline-group order-group"' in columns
    assert '<details class="inline-fold" open>' in columns
    assert 'aria-label="Comparison columns (scrolls sideways)"' in columns
    assert header_texts(columns) == ["Row", "Heading", "Position", "Key", "Delete?"]
    assert columns.count("data-order-row") == table.columns.count() + 1  # and the empty row to copy
    assert f'for="id_columns-0-heading">Heading, {column}</label>' in columns
    assert f'for="id_columns-0-DELETE">Delete {column}</label>' in columns
    assert 'for="id_columns-__prefix__-heading">Heading, new row</label>' in columns
    assert f'aria-label="Move up: {column}"' in columns

    html = client.get(change_url(draft)).content.decode()
    audit = inline_group(html, "audit_entries")
    assert "order-group" not in audit and "order-controls" not in audit
    assert '<details class="inline-fold">' in audit  # read-only: folded
    assert "" not in header_texts(audit)
    assert header_texts(audit)[0] == "Row" and "Delete?" not in header_texts(audit)
    assert 'class="delete"' not in audit

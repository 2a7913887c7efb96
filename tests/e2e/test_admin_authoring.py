"""An author writes a second article by hand in the admin, with all its parts, and publishes it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from articles.models import Medication, Symptom
from tests.conftest import make_user
from tests.e2e.browsing import follow
from tests.e2e.test_admin_dashboard import violations

pytestmark = pytest.mark.browser


@pytest.fixture
def editor(transactional_db, roles):
    """An author (not a superuser), with the vocabulary the article needs."""
    user = get_user_model().objects.create_user("editor", "editor@example.org", "editor-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Authors"))
    Medication.objects.create(slug="simvastatin", generic_name="Simvastatin", drug_class="Statin")
    for slug, name in SYMPTOMS:
        Symptom.objects.create(slug=slug, name=name, description=f"{name}.")
    return user


# Test data for an article typed by hand (not clinical content).
SYMPTOMS = [
    ("muscle-pain", "Muscle pain"),
    ("muscle-weakness", "Muscle weakness"),
    ("muscle-cramps", "Muscle cramps"),
    ("tiredness", "Tiredness"),
]
COLUMNS = ["Statin-related", "Other causes", "After exercise"]
ROWS = [
    ("Onset", ["Weeks", "Varies", "Hours"]),
    ("Both sides", ["Often", "Sometimes", "Often"]),
    ("Large muscles", ["Often", "Varies", "Often"]),
    ("Gets better at rest", ["Slowly", "Varies", "Quickly"]),
    ("Needs a blood test", ["Ask", "Ask", "Rarely"]),
]
ACTIONS = ["Talk to your doctor", "Keep a note of symptoms", "Do not stop on your own"]
REFERENCES = [("label-2024", "Example product information"), ("guide-2023", "Example guidance")]


def sign_in(browser, base_url: str, username: str):
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    follow(page.locator("input[type=submit]"))
    assert page.url.endswith("/admin/"), f"{username} could not sign in"
    return page


def add_row(page, group: str, label: str) -> int:
    """Click the admin's "Add another ..." link of an inline group and return the new form's index."""
    total = page.locator(f"#id_{group}-TOTAL_FORMS")
    index = int(total.input_value())
    page.locator(f"#{group}-group").get_by_text(f"Add another {label}").click()
    return index


def test_an_author_writes_and_publishes_a_complete_article(page, live_server, editor, artifacts):
    url = live_server.url
    page.goto(url + "/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "editor-password")
    page.click("input[type=submit]")

    page.goto(url + "/admin/articles/article/add/")
    page.select_option("#id_medication", label="Simvastatin")
    page.fill("#id_topic", "Muscle pain")
    page.press("#id_topic", "Tab")  # the slug is prepopulated from the topic on change
    assert page.input_value("#id_slug") == "muscle-pain"
    page.fill("#id_slug", "simvastatin-muscle-pain")
    page.fill("#id_title", "Simvastatin and muscle pain")
    page.fill("#id_summary", "What to know about muscle pain while taking simvastatin.")
    page.click("input[name=_save]")
    assert "/admin/articles/revision/" in page.url

    for title in ["Keep taking it", "When to get help"]:
        n = add_row(page, "callouts", "Safety callout")
        page.fill(f"#id_callouts-{n}-title", title)
        page.fill(f"#id_callouts-{n}-body", f"{title}: test text.")
    # Written in the wrong order; put right below, by keyboard, without a number.
    for number, heading in enumerate(["What to do", "About muscle pain"], start=1):
        n = add_row(page, "sections", "Section")
        page.fill(f"#id_sections-{n}-heading", heading)
        page.fill(f"#id_sections-{n}-key", f"s{number}")
        page.fill(f"#id_sections-{n}-body", f"Text of {heading.lower()} [@{REFERENCES[number - 1][0]}].")
    for key, title in REFERENCES:
        n = add_row(page, "references", "Reference")
        page.fill(f"#id_references-{n}-key", key)
        page.select_option(f"#id_references-{n}-publication_type", "product_information")
        page.fill(f"#id_references-{n}-title", title)
        page.fill(f"#id_references-{n}-url", f"https://example.org/{key}")
    n = add_row(page, "comparison_tables", "Comparison table")
    page.fill(f"#id_comparison_tables-{n}-caption", "Statin muscle pain compared with other causes")
    page.click("input[name=_continue]")
    assert not page.locator(".errornote").count(), page.locator(".errorlist").all_inner_texts()

    # No position is typed anywhere. The second section is moved up by keyboard, and the move is announced.
    expect(page.locator("input[name$='-position']:not([type=hidden])")).to_have_count(0)
    page.locator("#sections-1").get_by_role("button", name="Move up: About muscle pain").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("About muscle pain moved to place 1 of 2.")
    expect(page.locator("#sections-group .inline_label").first).to_have_text("About muscle pain")
    expect(page.get_by_role("button", name="Move up: About muscle pain")).to_be_focused()
    assert violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / "draft-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})

    # Sections exist now, so symptom entries and actions can be placed in them.
    for slug, name in SYMPTOMS:
        n = add_row(page, "symptom_entries", "Symptom entry")
        page.select_option(f"#id_symptom_entries-{n}-section", label="About muscle pain")
        page.fill(f"#id_symptom_entries-{n}-text", f"{name} while taking it.")
        # The symptom field is an autocomplete widget; choose the option the way its search would.
        page.evaluate(
            "([id, label, value]) => document.getElementById(id).add(new Option(label, value, true, true))",
            [f"id_symptom_entries-{n}-symptom", name, str(Symptom.objects.get(slug=slug).pk)],
        )
    for title in ACTIONS:
        n = add_row(page, "action_steps", "Action step")
        page.fill(f"#id_action_steps-{n}-title", title)
        page.select_option(f"#id_action_steps-{n}-section", label="What to do")
    page.select_option("#id_comparison_tables-0-section", label="About muscle pain")
    page.click("input[name=_continue]")
    assert not page.locator(".errornote").count(), page.locator(".errorlist").all_inner_texts()

    # The table's own page: columns first, then rows with one cell per column.
    page.get_by_text("Edit the columns, rows and cells of this table").click()
    for heading in COLUMNS:
        n = add_row(page, "columns", "Comparison column")
        page.fill(f"#id_columns-{n}-heading", heading)
    page.click("input[name=_continue]")
    for feature, cells in ROWS:
        n = add_row(page, "rows", "Comparison row")
        page.fill(f"#id_rows-{n}-feature", feature)
        cells_inputs = page.locator(f"#rows-{n} textarea")
        for index, text in enumerate(cells):
            cells_inputs.nth(index).fill(text)
    # Rows can also be dragged by their handle: "Both sides" goes first.
    page.locator("#rows-1 .order-handle").drag_to(page.locator("#rows-0"), target_position={"x": 10, "y": 3})
    expect(page.locator("#rows-group tr.form-row").first).to_have_id("rows-1")
    assert violations(page) == []
    page.click("input[name=_continue]")
    assert not page.locator(".errornote").count(), page.locator(".errorlist").all_inner_texts()
    # At 390 px the grid scrolls in its own box; the page does not scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("region", name="Comparison rows (scrolls sideways)")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / "table-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})

    # The content checks pass; the author submits it for review from the workflow panel.
    page.goto(url + "/admin/articles/revision/?q=simvastatin")
    follow(page.get_by_role("link", name="simvastatin-muscle-pain r1 (Draft)"))
    assert "No blocking problems." in page.locator(".checks").inner_text()
    page.fill("#id_submit-change_summary", "First version.")
    follow(page.get_by_role("button", name="Submit for clinical review"))
    page.wait_for_selector(".messagelist .success")
    assert "The revision is now in review." in page.locator(".messagelist").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / "in-review-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})

    # The reviewer finds it from the dashboard and approves it; the publisher publishes it from theirs.
    make_user("reviewer", "Clinical reviewers", profile=True)
    make_user("publisher", "Publishers")
    reviewer = sign_in(page.context.browser, url, "reviewer")
    follow(reviewer.locator("#dashboard-awaiting-review").get_by_role("link", name="Awaiting my review"))
    follow(reviewer.get_by_role("link", name="simvastatin-muscle-pain revision 1"))
    warnings = reviewer.locator(".workflow__action--approve input[type=checkbox]")
    for index in range(warnings.count()):
        warnings.nth(index).check()
    follow(reviewer.get_by_role("button", name="Approve"))
    expect(reviewer.locator(".messagelist")).to_contain_text("The revision is now approved.")
    publisher = sign_in(page.context.browser, url, "publisher")
    follow(publisher.locator("#dashboard-to-publish").get_by_role("link", name="Approved, waiting to publish"))
    follow(publisher.get_by_role("link", name="simvastatin-muscle-pain r1 (Approved)"))
    follow(publisher.get_by_role("button", name="Publish"))
    expect(publisher.locator(".messagelist")).to_contain_text("The revision is now published.")
    reviewer.context.close()
    publisher.context.close()

    page.goto(url + "/articles/simvastatin-muscle-pain/")
    page.screenshot(path=artifacts / "second-article.png", full_page=True)
    assert page.get_by_role("heading", level=1).inner_text() == "Simvastatin and muscle pain"
    table = page.get_by_role("table", name="Statin muscle pain compared with other causes")
    assert table.get_by_role("row").count() == 1 + len(ROWS)
    expect(table.get_by_role("row").nth(1)).to_contain_text("Both sides")
    assert table.get_by_role("columnheader").all_inner_texts()[1:] == COLUMNS
    expect(page.locator(".symptom-list > li")).to_have_count(len(SYMPTOMS))
    assert page.locator(".action-list li").all_inner_texts() == ACTIONS
    expect(page.locator("a.citation")).to_have_count(2)
    expect(page.locator(".callout")).to_have_count(2)
    headings = page.locator("main h2").all_inner_texts()
    assert headings.index("About muscle pain") < headings.index("What to do")

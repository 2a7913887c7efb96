"""A partner following the change feed ends up with exactly the live articles."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles import services
from articles.models import ChangeEvent, Revision
from tests.api.problems import problem_fields
from tests.conftest import PartnerClient

pytestmark = pytest.mark.django_db


def follow(api: PartnerClient, after: int = 0, limit: int = 3) -> dict[str, int]:
    """Replay the feed page by page, as a partner would, and return {slug: live revision number}."""
    return replay(api, f"/api/v1/changes/?after={after}&limit={limit}", {}, limit)


def replay(api: PartnerClient, url: str, live: dict[str, int], limit: int) -> dict[str, int]:
    """Go on replaying from ``url`` onto ``live``, following ``next`` until caught up; no page holds more than
    ``limit`` events, as the schema says."""
    while True:
        page = api.json(url)
        assert len(page["events"]) <= limit, url
        apply(page, live)
        url = page["next"]
        if not page["has_more"]:
            return live


def apply(page: dict[str, Any], live: dict[str, int]) -> None:
    for event in page["events"]:
        if event["type"] == "published":
            live[event["article"]] = event["revision"]
        elif live.get(event["article"]) == event["revision"]:
            del live[event["article"]]  # superseded or withdrawn


def actual_live() -> dict[str, int]:
    return dict(Revision.objects.published().values_list("article__slug", "number"))


def test_replaying_the_feed_reconstructs_the_live_articles(api, workflow, publisher, settings):
    settings.PARTNER_API_RATE = "10000/minute"
    a = workflow.live(slug="a", medication="amol")
    b = workflow.live(slug="b", medication="bmol")
    workflow.live(slug="c", medication="cmol")
    a2 = workflow.take_live(workflow.next_draft(a))  # republished: a is now at revision 2
    services.revision_withdraw(revision=b, actor=publisher, reason="Withdrawn for review.")
    b2 = workflow.take_live(workflow.next_draft(b))  # and back again, as revision 2
    a3 = workflow.take_live(workflow.next_draft(a2), publish_at=timezone.now() + datetime.timedelta(hours=1))
    Revision.objects.filter(pk=a3.pk).update(publish_at=timezone.now() - datetime.timedelta(seconds=1))
    assert actual_live() == {"a": 3, "b": b2.number, "c": 1}
    # The due scheduled revision is recorded when the feed is read, so the feed does not lag.
    assert follow(api) == {"a": 3, "b": 2, "c": 1}
    kinds = list(ChangeEvent.objects.filter(article__slug="b").values_list("kind", "revision__number"))
    assert kinds == [("published", 1), ("withdrawn", 1), ("published", 2)]


def test_the_feed_continues_from_where_a_partner_stopped(api, workflow):
    workflow.live(slug="first", medication="firstamol")
    page = api.json("/api/v1/changes/")
    assert page["has_more"] is False
    assert api.json(page["next"])["events"] == []
    workflow.live(slug="second", medication="secondamol")
    events = api.json(page["next"])["events"]
    assert [(e["type"], e["article"]) for e in events] == [("published", "second")]


def test_feed_parameters_are_validated(api):
    for params in ({"after": "-1"}, {"after": "x"}, {"limit": "0"}, {"limit": "501"}, {"since": "1"}):
        response = api.get("/api/v1/changes/", params)
        assert response.status_code == 400
        assert next(iter(params)) in problem_fields(response)


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["publish", "withdraw", "schedule_due", "schedule_later", "draft"]), st.integers(0, 2)),
    min_size=1,
    max_size=7,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_any_sequence_of_publishes_and_withdrawals_replays_exactly(operations, api, workflow, publisher, settings):
    settings.PARTNER_API_RATE = "100000/minute"
    with transaction.atomic():
        start = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        latest: dict[int, Any] = {}
        drafts: dict[int, Any] = {}  # the article's open draft (one at most), which its next publication takes

        def next_draft(which: int) -> Any:
            return drafts.pop(which, None) or workflow.next_draft(latest[which])

        for operation, which in operations:
            revision = latest.get(which)
            if operation == "publish":
                if revision is not None:
                    pending_later = Revision.objects.filter(
                        article=revision.article, state="scheduled", publish_at__gt=timezone.now()
                    )
                    for pending in pending_later:
                        services.revision_unschedule(revision=pending, actor=publisher)
                latest[which] = (
                    workflow.take_live(next_draft(which))
                    if revision is not None
                    else workflow.live(slug=f"article-{which}", medication=f"med{which}")
                )
            elif operation == "withdraw" and revision is not None and revision.state == "published":
                latest[which] = services.revision_withdraw(revision=revision, actor=publisher, reason="Test.")
            elif operation in {"schedule_due", "schedule_later"} and revision is not None:
                later = timezone.now() + datetime.timedelta(days=1)
                if Revision.objects.filter(article=revision.article, state="scheduled").exists():
                    continue
                scheduled = workflow.take_live(next_draft(which), publish_at=later)
                if operation == "schedule_due":
                    Revision.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now())
                    latest[which] = scheduled
            elif operation == "draft" and revision is not None and which not in drafts:
                drafts[which] = workflow.next_draft(revision)
        assert follow(api, after=start, limit=2) == actual_live()
        transaction.set_rollback(True)


def test_a_due_schedule_is_in_the_feed_before_anything_records_it(api, workflow, author, reviewer, publisher):
    """Reads never write: the feed computes a due publication read-only, then shows it again once recorded."""
    from tests.conftest import approve

    live = workflow.live()
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    draft = approve(services.revision_submit(revision=draft, actor=author, change_summary="Next."), reviewer)
    scheduled = services.revision_publish(
        revision=draft, actor=publisher, publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    Revision.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() - datetime.timedelta(minutes=1))
    events_before = ChangeEvent.objects.count()

    page = api.json("/api/v1/changes/")
    assert ChangeEvent.objects.count() == events_before  # nothing recorded by reading
    pending = [event for event in page["events"] if event["id"] is None]
    assert [(e["type"], e["revision"]) for e in pending] == [("superseded", live.number), ("published", draft.number)]
    assert follow(api) == actual_live() == {live.article.slug: draft.number}
    cursor = int(page["next"].split("after=")[1].split("&")[0])
    assert cursor == max(event["id"] for event in page["events"] if event["id"] is not None)

    assert services.revisions_publish_due()
    assert follow(api) == actual_live()
    # A partner that applied the pending events and goes on from its cursor ends in the same place.
    again = api.json(f"/api/v1/changes/?after={cursor}")
    assert [(e["type"], e["revision"]) for e in again["events"]] == [
        ("superseded", live.number),
        ("published", draft.number),
    ]
    assert all(event["id"] is not None for event in again["events"])


# Found from outside (gunicorn, production settings): a replaced revision's ``superseded`` event said it happened at
# the scheduled time while pending, then, once ``publish_scheduled`` recorded it, at the time that run did, while its
# replacement's ``published`` event kept the scheduled time. It stopped being live at the scheduled time.
def test_a_scheduled_replacement_is_dated_at_its_time_whenever_it_is_recorded(api, workflow, clock):
    live = workflow.live()
    at = timezone.now() + datetime.timedelta(hours=1)
    scheduled = workflow.take_live(workflow.next_draft(live), publish_at=at)
    cursor = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    clock.advance(datetime.timedelta(hours=3))

    def moments(page: dict[str, Any]) -> list[tuple[str, int, datetime.datetime]]:
        return [(e["type"], e["revision"], datetime.datetime.fromisoformat(e["occurred_at"])) for e in page["events"]]

    expected = [("superseded", live.number, at), ("published", scheduled.number, at)]
    assert moments(api.json(f"/api/v1/changes/?after={cursor}")) == expected  # pending: not recorded yet
    assert services.revisions_publish_due()
    recorded = api.json(f"/api/v1/changes/?after={cursor}")
    assert all(event["id"] is not None for event in recorded["events"])
    assert moments(recorded) == expected


def due_replacements(workflow: Any, clock: Any, count: int) -> list[Any]:
    """``count`` live articles, each with a scheduled replacement whose time has passed, recorded by nothing."""
    lives = [workflow.live(slug=f"due-{n}", medication=f"due{n}mol") for n in range(count)]
    at = timezone.now() + datetime.timedelta(hours=1)
    for live in lives:
        workflow.take_live(workflow.next_draft(live), publish_at=at)
    clock.advance(datetime.timedelta(hours=1, seconds=1))
    return lives


# Found from outside (gunicorn, production settings): with a scheduled publication due but not recorded,
# ``?after=<last id - 1>&limit=1`` answered 3 events, and ``?after=4611686018427387904`` 16: the events without an
# id were added to the last page whatever its ``limit`` (the schema: "At most this many events").
def test_a_page_never_holds_more_than_limit_events_pending_ones_included(api, workflow, clock, settings):
    settings.PARTNER_API_RATE = "10000/minute"
    due_replacements(workflow, clock, 3)
    last = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    page = api.json(f"/api/v1/changes/?after={last - 1}&limit=1")
    assert [(e["id"], e["type"]) for e in page["events"]] == [(last, "published")]
    assert page["has_more"] is True
    page = api.json(f"/api/v1/changes/?after={2**62}&limit=5")
    assert len(page["events"]) == 5 and page["has_more"] is True
    expected = {f"due-{n}": 2 for n in range(3)}
    for limit in (1, 2, 3, 5, 6, 7, 100):
        assert follow(api, after=last, limit=limit) == actual_live() == expected, limit
        assert follow(api, limit=limit) == expected, limit
    # Caught up: the last page's ``next`` goes on from the last recorded event, and shows the pending ones again.
    pages = [api.json(f"/api/v1/changes/?after={last}&limit=4")]
    while pages[-1]["has_more"]:
        pages.append(api.json(pages[-1]["next"]))
    shown = [(e["type"], e["article"], e["revision"]) for page in pages for e in page["events"]]
    assert len(shown) == len(set(shown)) == 6 and [len(page["events"]) for page in pages] == [4, 2]
    assert pages[-1]["next"].endswith(f"/api/v1/changes/?after={last}&limit=4")
    assert api.json(pages[-1]["next"])["events"] == pages[0]["events"]


def test_a_partner_part_way_through_the_pending_events_when_they_are_recorded_misses_none(
    api, workflow, clock, settings
):
    settings.PARTNER_API_RATE = "10000/minute"
    lives = due_replacements(workflow, clock, 3)
    last = ChangeEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    live = follow(api, limit=100)
    first = api.json(f"/api/v1/changes/?after={last}&limit=3")
    assert first["has_more"] is True and all(event["id"] is None for event in first["events"])
    apply(first, live)
    workflow.next_draft(Revision.objects.get(pk=lives[2].pk))  # a step on the last article records its publication
    assert replay(api, first["next"], live, 3) == actual_live()
    second = api.json(f"/api/v1/changes/?after={last}&limit=3")
    apply(second, live)
    assert services.revisions_publish_due()  # and cron records the rest
    assert replay(api, second["next"], live, 3) == actual_live() == {f"due-{n}": 2 for n in range(3)}

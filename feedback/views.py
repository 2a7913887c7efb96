"""Public feedback pages: "Is this page helpful?", then "What was wrong?", then thanks.

Why the form lives on its own page: article pages are cached and answered early
(``contentsite.early``) and must be the same bytes for every reader, so they
cannot carry a CSRF token. They carry a small GET form instead (Yes / No) that
opens ``/feedback/<revision>/``, an uncached page that writes nothing and shows the
real form with a CSRF token; only its POST writes, through Django's usual CSRF
check (``contentsite.methods.allow_methods``). We chose this over a CSRF-exempt
POST from the article page with Origin / Sec-Fetch-Site checks: that would make
this the one public write without the project-wide CSRF protection, relying on
headers some clients leave out. The cost is one more click for "Yes".

Nothing about the reader is stored (``feedback.models``); the rate limit per
address is counted in the cache under a keyed hash (``feedback.throttling``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from articles.models import Revision
from contentsite.methods import allow_get, allow_methods

from . import services
from .forms import NO, YES, FeedbackForm
from .throttling import feedback_wait


def _seen_revision(revision_id: int) -> Revision:
    """A revision readers have seen (live now or before), with its article: one query; 404 otherwise."""
    revision = Revision.objects.ever_published().select_related("article").filter(pk=revision_id).first()
    if revision is None:
        raise Http404("No such page.")
    return revision


def _page(request: HttpRequest, revision: Revision, form: FeedbackForm, status: int = 200) -> HttpResponse:
    helpful = form["helpful"].value()
    context = {
        "revision": revision,
        "back_url": revision.article.get_absolute_url(),
        "form": form,
        "helpful": helpful if helpful in (YES, NO) else None,
        # (where the error is, for the summary's link; the message): text boxes by id, radio groups by fieldset.
        "errors": [
            *((None, error) for error in form.non_field_errors()),
            *(
                (field.id_for_label if field.name == "text" else f"field-{field.name}", error)
                for field in form
                for error in field.errors
            ),
        ],
    }
    response = render(request, "feedback/ask.html", context, status=status)
    add_never_cache_headers(response)  # it carries a CSRF token: no shared cache may keep it
    return response


@allow_methods("GET", "HEAD", "POST")
def ask(request: HttpRequest, revision_id: int) -> HttpResponse:
    """GET (``?helpful=yes|no`` from the page's buttons): the form. POST: store it, or say what is wrong."""
    revision = _seen_revision(revision_id)
    if request.method != "POST":
        chosen = request.GET.get("helpful")
        return _page(request, revision, FeedbackForm(initial={"helpful": chosen if chosen in (YES, NO) else None}))
    form = FeedbackForm(request.POST)
    thanks = HttpResponseRedirect(reverse("feedback:thanks", args=[revision.pk]))
    thanks.status_code = 303  # See Other: the browser GETs the thanks page; a reload sends nothing again
    if form.is_trap:
        return thanks
    if not form.is_valid():
        return _page(request, revision, form, status=400)
    wait = feedback_wait(request)
    if wait is not None:
        context = {"back_url": revision.article.get_absolute_url()}
        response = render(request, "feedback/too_many.html", context, status=429)
        response["Retry-After"] = str(wait)
        add_never_cache_headers(response)
        return response
    data = form.cleaned_data
    try:
        services.feedback_submit(
            revision=revision, helpful=data["helpful"] == YES, reason=data["reason"], text=data["text"]
        )
    except ValidationError as error:  # the model's own rules, should the form ever disagree: a 400, never a 500
        form.add_error(None, error.messages)
        return _page(request, revision, form, status=400)
    return thanks


@allow_get
def thanks(request: HttpRequest, revision_id: int) -> HttpResponse:
    revision = _seen_revision(revision_id)
    response = render(
        request, "feedback/thanks.html", {"revision": revision, "back_url": revision.article.get_absolute_url()}
    )
    add_never_cache_headers(response)
    return response

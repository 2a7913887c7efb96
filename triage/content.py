"""A pathway revision's rows as plain data, and back.

The same dictionary is part of the revision's canonical content (so an approval's
content hash covers the pathway's logic), feeds the diff, is the body of the
pathway interchange file, and becomes the engine's ``Pathway``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Prefetch

from articles.models import Article, Revision, Symptom
from articles.rendering import render_markdown

from . import engine
from .models import AnswerOption, Condition, Disposition, Question, Rule, UrgencyLevel, Vignette

# Each disposition's articles to read (``public_prefetch`` keeps the live ones).
ARTICLES_TO_READ = "triage_dispositions__articles"
PREFETCH = (
    Prefetch("triage_questions", queryset=Question.objects.select_related("symptom").order_by("position", "key")),
    Prefetch("triage_questions__options", queryset=AnswerOption.objects.order_by("position", "key")),
    Prefetch("triage_dispositions", queryset=Disposition.objects.order_by("position", "key")),
    ARTICLES_TO_READ,
    Prefetch("triage_rules", queryset=Rule.objects.select_related("disposition").order_by("position", "key")),
    Prefetch("triage_rules__conditions", queryset=Condition.objects.select_related("option__question")),
    Prefetch("triage_vignettes", queryset=Vignette.objects.order_by("position", "key")),
)


def public_prefetch() -> tuple[Any, ...]:
    """``PREFETCH`` as readers and partners are shown a pathway: of each disposition's articles to read, those live
    now (a withdrawn one, or one not yet published, is left out, as on the public result page). Made for each read,
    since what is live depends on the time. Its content (and hash) is ``PREFETCH``'s, every article named."""
    live = Article.objects.filter(pk__in=Revision.objects.published().values("article_id"))
    return tuple(Prefetch(ARTICLES_TO_READ, queryset=live) if item == ARTICLES_TO_READ else item for item in PREFETCH)


# A rule's description may end by citing the guidance row it comes from, e.g. "(second pathway, row 4)":
# that is for its reviewers (and partners); a reader is never pointed to internal sources.
GUIDANCE_CITATION = re.compile(r"\s*\([^()]*\brows? \d+[^()]*\)\s*$")


def reason_for_reader(description: str) -> str:
    """A rule's description as the reader's result page gives it: without a trailing guidance citation."""
    return GUIDANCE_CITATION.sub("", description)


def level_slug(value: int | None) -> str | None:
    return engine.Level(value).slug if value is not None else None


def pathway_content(revision: Revision) -> dict[str, Any]:
    """The pathway rows of ``revision`` (prefetch with ``PREFETCH`` to avoid queries per row)."""
    return {
        "questions": [
            {
                "key": q.key,
                "position": q.position,
                "kind": q.kind,
                "text": q.text,
                "help_text": q.help_text,
                "symptom": q.symptom.slug if q.symptom_id else None,
                "red_flag_level": level_slug(q.red_flag_level),
                "source": q.source,
                "options": [
                    {"key": o.key, "position": o.position, "label": o.label, "is_red_flag": o.is_red_flag}
                    for o in q.options.all()
                ],
            }
            for q in revision.triage_questions.all()
        ],
        "dispositions": [
            {
                "key": d.key,
                "position": d.position,
                "level": level_slug(d.level),
                "title": d.title,
                "advice": d.advice,
                "safety_netting": d.safety_netting,
                "is_fallback": d.is_fallback,
                "articles": sorted(article.slug for article in d.articles.all()),
            }
            for d in revision.triage_dispositions.all()
        ],
        "rules": [
            {
                "key": r.key,
                "position": r.position,
                "description": r.description,
                "match": "all" if r.match_all else "any",
                "disposition": r.disposition.key,
                "conditions": [
                    {"key": c.key, "position": c.position, "question": c.option.question.key, "option": c.option.key}
                    for c in sorted(r.conditions.all(), key=lambda c: (c.position, c.key))
                ],
            }
            for r in revision.triage_rules.all()
        ],
        "vignettes": [
            {
                "key": v.key,
                "position": v.position,
                "title": v.title,
                "answers": {question: list(options) for question, options in sorted(v.answers.items())},
                "minimum_level": level_slug(v.minimum_level),
                "rationale": v.rationale,
            }
            for v in revision.triage_vignettes.all()
        ],
    }


def pathway_from_content(content: dict[str, Any]) -> engine.Pathway:
    """The engine's view of a pathway's content."""
    return engine.Pathway(
        questions=tuple(
            engine.Question(
                key=q["key"],
                kind=engine.Kind(q["kind"]),
                text=q["text"],
                options=tuple(engine.Option(o["key"], o["label"], o["is_red_flag"]) for o in q["options"]),
                red_flag_level=engine.Level.from_slug(q["red_flag_level"]) if q.get("red_flag_level") else None,
            )
            for q in content.get("questions", [])
        ),
        dispositions=tuple(
            engine.Disposition(d["key"], engine.Level.from_slug(d["level"]), d["title"], d["is_fallback"])
            for d in content.get("dispositions", [])
        ),
        rules=tuple(
            engine.Rule(
                key=r["key"],
                disposition=r["disposition"],
                conditions=tuple(engine.Condition(c["question"], c["option"]) for c in r["conditions"]),
                match_all=r["match"] == "all",
                description=r["description"],
            )
            for r in content.get("rules", [])
        ),
        vignettes=tuple(
            engine.Vignette(
                key=v["key"],
                title=v["title"],
                answers={question: tuple(options) for question, options in v["answers"].items()},
                minimum_level=engine.Level.from_slug(v["minimum_level"]),
            )
            for v in content.get("vignettes", [])
        ),
    )


def pathway_for(revision: Revision) -> engine.Pathway:
    return pathway_from_content(pathway_content(revision))


# --- The compiled form: everything an evaluation shows, as plain picklable values ----------------

# Part of the cache key: bump it when ``CompiledPathway`` or what it holds changes shape.
COMPILED_FORMAT = 5


@dataclass(frozen=True)
class FormQuestion:
    """A question as the reader's form asks it."""

    key: str
    position: int
    kind: str
    text: str
    help_text: str
    # The hint as the reader sees it: Markdown, so that a plain question can list its signs.
    help_html: str
    red_flag_level: int | None
    choices: tuple[tuple[str, str], ...]
    # The words the reader is shown (``wording_fingerprint``): an answer carried from page to page counts only for
    # the question in the words it was given to, whatever revision goes live meanwhile (``forms.read_step``).
    fingerprint: str
    # The answers that are warning signs (``engine.Question.red_flag_options``).
    red_flag_options: frozenset[str]


def wording_fingerprint(*, kind: str, text: str, help_text: str, choices: tuple[tuple[str, str], ...]) -> str:
    """A short digest of a question as the reader sees it: its kind, words, hint and answers (keys and labels)."""
    shown = json.dumps([kind, text, help_text, [list(choice) for choice in choices]], ensure_ascii=False)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CompiledDisposition:
    key: str
    level: engine.Level
    title: str
    advice: str
    advice_html: str
    safety_netting: str
    safety_netting_html: str
    is_fallback: bool
    # The related articles, in the clinician's order: ids (for their live titles) and public paths.
    article_ids: tuple[int, ...]
    article_paths: tuple[str, ...]

    def get_level_display(self) -> str:
        return UrgencyLevel(self.level).label


@dataclass(frozen=True)
class CompiledPathway:
    """A live pathway revision, compiled once: the engine's ``Pathway`` and what a result shows.

    Built from the revision's rows and its latest review; cached under the pathway's
    live identity, so any public change (publish, withdrawal, review, vocabulary) is a
    new key and the next evaluation compiles the new state.
    """

    slug: str
    path: str
    article_id: int
    revision_id: int
    number: int
    content_hash: str
    title: str
    summary: str
    topic: str
    is_demonstration: bool
    pathway: engine.Pathway
    questions: tuple[FormQuestion, ...]  # in the asking order (``engine.Pathway.asking_order``)
    dispositions: dict[str, CompiledDisposition]
    # Rule key → (description, disposition key); question key → text.
    rules: dict[str, tuple[str, str]]
    question_texts: dict[str, str]
    # The symptoms its questions ask about: what the pathway is for, and what a result's articles discuss.
    symptom_ids: tuple[int, ...] = ()


def form_questions(revision: Revision) -> tuple[FormQuestion, ...]:
    """In the order the reader is asked (``engine.asking_rank``): red flags first, most urgent first."""
    questions = [_form_question(q) for q in revision.triage_questions.all()]
    questions.sort(key=lambda q: (q.position, q.key))
    return tuple(sorted(questions, key=lambda q: engine.asking_rank(q.red_flag_level)))


def _form_question(q: Question) -> FormQuestion:
    choices = tuple((o.key, o.label) for o in q.options.all())
    return FormQuestion(
        key=q.key,
        position=q.position,
        kind=q.kind,
        text=q.text,
        help_text=q.help_text,
        help_html=render_markdown(q.help_text) if q.help_text else "",
        red_flag_level=q.red_flag_level,
        choices=choices,
        fingerprint=wording_fingerprint(kind=q.kind, text=q.text, help_text=q.help_text, choices=choices),
        red_flag_options=frozenset(o.key for o in q.options.all() if o.is_red_flag),
    )


def compile_pathway(revision: Revision) -> CompiledPathway:
    """Compile a revision fetched with ``PREFETCH``, ``with_review()`` and its article."""
    review = revision.current_review
    return CompiledPathway(
        slug=revision.article.slug,
        path=revision.article.get_absolute_url(),
        article_id=revision.article_id,
        revision_id=revision.pk,
        number=revision.number,
        content_hash=revision.content_hash,
        title=revision.title,
        summary=revision.summary,
        topic=revision.topic,
        is_demonstration=review is None or review.reviewer_is_demonstration,
        # Vignettes serve the safety checks, not evaluation: left out, the cached value is smaller.
        pathway=replace(pathway_for(revision), vignettes=()),
        questions=form_questions(revision),
        dispositions={
            d.key: CompiledDisposition(
                key=d.key,
                level=engine.Level(d.level),
                title=d.title,
                advice=d.advice,
                advice_html=render_markdown(d.advice),
                safety_netting=d.safety_netting,
                safety_netting_html=render_markdown(d.safety_netting),
                is_fallback=d.is_fallback,
                article_ids=tuple(article.pk for article in d.articles.all()),
                article_paths=tuple(article.get_absolute_url() for article in d.articles.all()),
            )
            for d in revision.triage_dispositions.all()
        },
        rules={r.key: (r.description, r.disposition.key) for r in revision.triage_rules.all()},
        question_texts={q.key: q.text for q in revision.triage_questions.all()},
        symptom_ids=tuple(dict.fromkeys(q.symptom_id for q in revision.triage_questions.all() if q.symptom_id)),
    )


def write_pathway_content(revision: Revision, content: dict[str, Any]) -> None:
    """Create a revision's pathway rows from validated content (keys kept). The caller holds the transaction."""
    symptoms = Symptom.objects.in_bulk(
        [q["symptom"] for q in content.get("questions", []) if q.get("symptom")], field_name="slug"
    )
    questions = Question.objects.bulk_create(
        Question(
            revision=revision,
            key=q["key"],
            position=q["position"],
            kind=q["kind"],
            text=q["text"],
            help_text=q.get("help_text", ""),
            symptom=symptoms.get(q.get("symptom")),
            red_flag_level=engine.Level.from_slug(q["red_flag_level"]) if q.get("red_flag_level") else None,
            source=q.get("source", ""),
        )
        for q in content.get("questions", [])
    )
    options = AnswerOption.objects.bulk_create(
        AnswerOption(
            question=question,
            key=o["key"],
            position=o["position"],
            label=o["label"],
            is_red_flag=o.get("is_red_flag", False),
        )
        for question, q in zip(questions, content.get("questions", []), strict=True)
        for o in q["options"]
    )
    option_by_key = {(option.question.key, option.key): option for option in options}
    dispositions = Disposition.objects.bulk_create(
        Disposition(
            revision=revision,
            key=d["key"],
            position=d["position"],
            level=engine.Level.from_slug(d["level"]),
            title=d["title"],
            advice=d["advice"],
            safety_netting=d["safety_netting"],
            is_fallback=d["is_fallback"],
        )
        for d in content.get("dispositions", [])
    )
    articles = Article.objects.in_bulk(
        [slug for d in content.get("dispositions", []) for slug in d.get("articles", [])], field_name="slug"
    )
    through = Disposition.articles.through
    through.objects.bulk_create(
        through(disposition_id=disposition.pk, article_id=articles[slug].pk)
        for disposition, d in zip(dispositions, content.get("dispositions", []), strict=True)
        for slug in d.get("articles", [])
    )
    disposition_by_key = {disposition.key: disposition for disposition in dispositions}
    rules = Rule.objects.bulk_create(
        Rule(
            revision=revision,
            key=r["key"],
            position=r["position"],
            description=r["description"],
            match_all=r["match"] == "all",
            disposition=disposition_by_key[r["disposition"]],
        )
        for r in content.get("rules", [])
    )
    Condition.objects.bulk_create(
        Condition(rule=rule, key=c["key"], position=c["position"], option=option_by_key[(c["question"], c["option"])])
        for rule, r in zip(rules, content.get("rules", []), strict=True)
        for c in r["conditions"]
    )
    Vignette.objects.bulk_create(
        Vignette(
            revision=revision,
            key=v["key"],
            position=v["position"],
            title=v["title"],
            answers=v["answers"],
            minimum_level=engine.Level.from_slug(v["minimum_level"]),
            rationale=v["rationale"],
        )
        for v in content.get("vignettes", [])
    )

"""Reader search: a full-text index of live content, kept by the services, queried in index scans.

Writing. ``index_articles`` rewrites the ``SearchEntry`` rows of some articles
from their published and scheduled revisions. The services call it inside the
transaction that changes what is public, next to ``articles.live.public_change``
(a state change of a public revision, a vocabulary change); the bulk loader of
the read-cost tests, the backfill migration and ``rebuild_search_index`` call
the same function. A vocabulary change, which may touch tens of thousands of
articles, rewrites instead only the text it changed, in a fixed number of
statements (``index_vocabulary_change``). Reads never write: a scheduled
revision is indexed when it is scheduled and ``SearchEntry.objects.live()``
picks it from its time.

Reading. ``search(text, kind=...)`` answers at most ``MAX_RESULTS`` revision ids,
best first, from the database's own full-text index (no ``LIKE``, no count of
every match), so its cost does not grow with the number of articles:

- PostgreSQL: ``document`` (a weighted ``tsvector``, GIN-indexed) matched with
  ``websearch_to_tsquery('english', text)``, which accepts any input, ranked
  with ``ts_rank_cd``.
- SQLite: the FTS5 table ``articles_searchentry_fts`` (porter stemming, like
  PostgreSQL's English configuration) matched with a query that
  ``fts5_query`` builds from the words of ``text`` as quoted strings, never
  passing the user's syntax through, ranked with ``bm25`` weighted like the
  four PostgreSQL weights.

Both read the text the same way (``parse_query``): words, "quoted phrases",
``or`` between words and ``-word`` to exclude one; English stop words are
ignored (but for those inside a phrase, "pins and needles"); a query with
nothing but exclusions finds nothing. Names and topics are stemmed with the
rest (one configuration for documents and queries keeps "amlodipine
neuropathy" one AND over every field).

Helping the reader. ``snippet`` cuts the passage of a result with most of the
reader's words and marks them, in Python over the stored text, so both
databases show the same. ``suggest`` offers "Did you mean …?" from a small
vocabulary of names (``SearchTerm``: titles, medicines, brands, symptoms),
matched by trigram similarity through an index (``pg_trgm`` GIN; an FTS5
``trigram`` table on SQLite), and only when the suggestion finds live content.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as django_apps
from django.apps.registry import Apps
from django.contrib.postgres.lookups import TrigramSimilar
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramSimilarity
from django.db import connection, transaction
from django.db.models import Case, Expression, F, OuterRef, Q, Subquery, TextField, Value, When
from django.db.models.functions import Concat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Article, Medication, Revision, SearchEntry, SearchTerm, Symptom, symptom_references
from .models.search import MAX_TERM_CHARS

FTS_TABLE = "articles_searchentry_fts"
# SQLite's trigram index of ``SearchTerm.word`` (PostgreSQL has a pg_trgm GIN index on the column).
TERM_TABLE = "articles_searchterm_trigram"
MIN_TERM_CHARS = 3
# Results beyond this many are not ranked for the reader: the page says "more than".
MAX_RESULTS = 100
PAGE_SIZE = 20
# Of more matches than this, only the most recently indexed this many are ranked: ranking costs a
# score per match (bm25, ts_rank_cd), so a word in every article would cost in proportion to the
# library; this bounds it (a word in all 100,000 bench articles: 2.7 ms on PostgreSQL instead of
# 214 ms). A reader asking so broadly sees "more than 100 results" and narrows the query.
RANK_WINDOW = 500
# Articles indexed per batch of queries.
BATCH = 500
# ts_rank_cd's weights for D, C, B, A, and the same proportions for bm25's columns A, B, C, D.
PG_WEIGHTS = [0.1, 0.2, 0.4, 1.0]
FTS_WEIGHTS = (10.0, 4.0, 2.0, 1.0)
INDEXED_STATES = ("published", "scheduled")

# PostgreSQL's English stop words (the Snowball list behind its ``english`` configuration),
# so SQLite ignores the same words in a query.
_ENGLISH_STOP_WORDS = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is are
    was were be been being have has had having do does did doing a an the and but if or because as until while
    of at by for with about against between into through during before after above below to from up down in out
    on off over under again further then once here there when where why how all any both each few more most
    other some such no nor not only own same so than too very s t can will just don should now
"""
STOP_WORDS = frozenset(_ENGLISH_STOP_WORDS.split())


# --- Writing ---------------------------------------------------------------------------


def index_articles(article_ids: Iterable[int], *, apps: Apps = django_apps) -> None:
    """Rewrite the search entries of ``article_ids`` from their published and scheduled revisions.

    Call it inside the transaction that changes what is public, holding the
    articles' locks (the services do), so two writers never index one article
    at once. ``apps`` lets the backfill migration pass its historical models.
    """
    ids = sorted(set(article_ids))
    for start in range(0, len(ids), BATCH):
        _index_batch(ids[start : start + BATCH], apps)


def _index_batch(article_ids: list[int], apps: Apps) -> None:
    SearchEntry = apps.get_model("articles", "SearchEntry")
    Revision = apps.get_model("articles", "Revision")
    vendor = transaction.get_connection().vendor
    if vendor == "sqlite":
        placeholders = ", ".join(["%s"] * len(article_ids))
        entries = f"SELECT id FROM articles_searchentry WHERE article_id IN ({placeholders})"  # noqa: S608
        with transaction.get_connection().cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({entries})", article_ids)  # noqa: S608
    stale = SearchEntry.objects.filter(article_id__in=article_ids)
    stale._raw_delete(stale.db)  # nothing refers to a search entry
    revisions = list(
        Revision.objects.filter(article_id__in=article_ids, state__in=INDEXED_STATES).values_list(
            "pk",
            "article_id",
            "article__kind",
            "title",
            "topic",
            "summary",
            "article__medication__generic_name",
            "article__medication__brand_names",
        )
    )
    if not revisions:
        return
    texts = _revision_texts([revision[0] for revision in revisions], apps)
    entries = SearchEntry.objects.bulk_create(
        SearchEntry(
            article_id=article_id,
            revision_id=pk,
            kind=kind,
            names=_join([title, generic_name, *(brand_names or [])]),
            about=_join([topic, summary]),
            symptoms=_join(texts[pk].symptoms),
            body=_join(texts[pk].body),
        )
        for pk, article_id, kind, title, topic, summary, generic_name, brand_names in revisions
    )
    if vendor == "postgresql":
        SearchEntry.objects.filter(article_id__in=article_ids).update(document=weighted_document())
    elif vendor == "sqlite":
        with transaction.get_connection().cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, names, about, symptoms, body) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
                [(entry.pk, entry.names, entry.about, entry.symptoms, entry.body) for entry in entries],
            )
    names = [part for _, _, _, title, _, _, generic, brands in revisions for part in (title, generic, *(brands or []))]
    names += [name for pk, *_ in revisions for name in texts[pk].symptom_names]
    _add_terms(names, apps, vendor)


def term_words(text: str) -> list[str]:
    """The words of ``text`` worth suggesting: lower case, of 3 to ``MAX_TERM_CHARS`` letters, not stop words.

    Words as ``pg_trgm`` splits them (``trigram_words``), so that both databases compare the same words.
    """
    return [
        word
        for word in trigram_words(text.casefold())
        if MIN_TERM_CHARS <= len(word) <= MAX_TERM_CHARS and word not in STOP_WORDS and not word.isdigit()
    ]


def _add_terms(names: Iterable[str | None], apps: Apps, vendor: str) -> None:
    """Add the words of ``names`` to the vocabulary of suggestions (``SearchTerm``), each once."""
    try:
        SearchTerm = apps.get_model("articles", "SearchTerm")
    except LookupError:
        return  # the backfill of migration 0081 runs before the vocabulary exists (0091 fills it)
    words = sorted({word for name in names if name for word in term_words(name)})
    known = set(SearchTerm.objects.filter(word__in=words).values_list("word", flat=True)) if words else set()
    new = [word for word in words if word not in known]
    if not new:
        return
    # Another writer may add the same word at once (PostgreSQL): the unique constraint keeps one.
    SearchTerm.objects.bulk_create([SearchTerm(word=word) for word in new], ignore_conflicts=True)
    if vendor == "sqlite":  # SQLite has one writer at a time: the rows just added are these.
        added = SearchTerm.objects.filter(word__in=new).values_list("pk", "word")
        with transaction.get_connection().cursor() as cursor:
            cursor.executemany(f"INSERT INTO {TERM_TABLE} (rowid, word) VALUES (%s, %s)", list(added))  # noqa: S608


def index_vocabulary_change(entry: Medication | Symptom) -> None:
    """Rewrite, set-wise, the one text of the search entries that ``entry`` (a medication or symptom) changed.

    What ``index_articles`` would write for every article showing ``entry``, in a
    fixed number of statements however many articles that is (a medication's
    names are in ``names``; a symptom's name and description in ``symptoms``, of
    every revision showing it), then their ``tsvector`` (PostgreSQL) or FTS5 row
    (SQLite), and the suggestions' words. Call it inside the vocabulary change's
    transaction, holding those articles' locks (``services``), as ``index_articles``.
    A rebuild of the index writes the same (``tests/articles/test_vocabulary_at_scale.py``).
    """
    vendor = transaction.get_connection().vendor
    if isinstance(entry, Medication):
        column = "names"
        entries = SearchEntry.objects.filter(article_id__in=Article.objects.filter(medication=entry).values("pk"))
        generic_and_brands = _join([entry.generic_name, *(entry.brand_names or [])])
        # ``_join([title, generic_name, *brand_names])``: the title and its line break only if there is a title.
        title = Revision.objects.filter(pk=OuterRef("revision_id")).annotate(
            line=Case(When(title="", then=Value("")), default=Concat("title", Value("\n")), output_field=TextField())
        )
        names = Concat(Subquery(title.values("line")[:1]), Value(generic_and_brands), output_field=TextField())
        # The text and its tsvector in one statement: each entry is written once.
        tsvector = {"document": weighted_document(names=names)} if vendor == "postgresql" else {}
        changed = entries.update(names=names, **tsvector)
        words = [entry.generic_name, *(entry.brand_names or [])]
    else:
        column = "symptoms"
        entries = SearchEntry.objects.filter(_showing(entry))
        changed = _rewrite_symptom_texts(entry, vendor)
        words = [entry.name]
    if not changed:
        return
    if vendor == "sqlite":
        ids, params = entries.values("pk").query.sql_with_params()
        with transaction.get_connection().cursor() as cursor:
            cursor.execute(
                f"UPDATE {FTS_TABLE} SET {column} = (SELECT entry.{column} FROM articles_searchentry entry "  # noqa: S608
                f"WHERE entry.id = {FTS_TABLE}.rowid) WHERE rowid IN ({ids})",
                params,
            )
    _add_terms(words, django_apps, vendor)


def _showing(symptom: Symptom) -> Q:
    """Search entries of the revisions whose content rows show ``symptom`` (any kind of row: ``symptom_references``)."""
    condition = Q(pk__in=[])
    for reference in symptom_references():
        rows = reference.model._default_manager.filter(**{reference.symptom_field: symptom})
        condition |= Q(revision_id__in=rows.values("revision_id"))
    return condition


def _rewrite_symptom_texts(symptom: Symptom, vendor: str) -> int:
    """Write the ``symptoms`` text of every search entry of a revision showing ``symptom`` again, in one statement:
    ``_revision_texts``' symptom text (each row's symptom name and description, if it has a symptom, and its own
    ``text``; the kinds of row in ``symptom_references`` order, each by position), joined in SQL. How many entries
    it wrote."""
    parts = []
    params: list[Any] = []
    for source, reference in enumerate(symptom_references()):
        model = reference.model
        table = model._meta.db_table
        symptom_column = model._meta.get_field(reference.symptom_field).column
        revision, position = (model._meta.get_field(name).column for name in ("revision", "position"))
        texts = ["symptom.name", "symptom.description"]
        if any(model_field.name == "text" for model_field in model._meta.concrete_fields):
            texts.append("row.text")
        for part, text in enumerate(texts):
            parts.append(
                f"SELECT row.{revision} AS revision_id, {source} AS source, row.{position} AS position, "  # noqa: S608
                f"row.{model._meta.pk.column} AS row_id, {part} AS part, {text} AS text FROM {table} row "
                f"LEFT JOIN {Symptom._meta.db_table} symptom ON symptom.id = row.{symptom_column} "
                f"WHERE row.{revision} IN (SELECT shown.{revision} FROM {table} shown "
                f"WHERE shown.{symptom_column} = %s)"
            )
            params.append(symptom.pk)
    rows = " UNION ALL ".join(parts)
    order = "source, position, row_id, part"
    if vendor == "postgresql":
        shown = (
            f"SELECT revision_id, string_agg(text, E'\\n' ORDER BY {order}) AS text "  # noqa: S608
            f"FROM ({rows}) parts WHERE text <> '' GROUP BY revision_id"
        )
    else:
        # SQLite before 3.44 has no ORDER BY in an aggregate; as a window function, group_concat follows the
        # window's order.
        shown = (
            f"SELECT DISTINCT revision_id, group_concat(text, char(10)) OVER (PARTITION BY revision_id "  # noqa: S608
            f"ORDER BY {order} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS text "
            f"FROM ({rows}) parts WHERE text <> ''"
        )
    # PostgreSQL: the text and its tsvector (``weighted_document``, with the new text) in one statement.
    tsvector = ", document = " + " || ".join(
        f"setweight(to_tsvector('english'::regconfig, {text}), '{weight}')"
        for text, weight in (
            ("COALESCE(names, '')", "A"),
            ("COALESCE(about, '')", "B"),
            ("shown.text", "C"),
            ("COALESCE(body, '')", "D"),
        )
    )
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            f"UPDATE articles_searchentry SET symptoms = shown.text{tsvector if vendor == 'postgresql' else ''} "  # noqa: S608
            f"FROM ({shown}) shown WHERE articles_searchentry.revision_id = shown.revision_id",
            params,
        )
        return cursor.rowcount


def weighted_document(*, names: Expression | str = "names") -> SearchVector:
    """The ``tsvector`` of a search entry: its four texts, weighted A to D (``names``: the new text, to write both
    in one statement)."""
    return (
        SearchVector(names, weight="A", config="english")
        + SearchVector("about", weight="B", config="english")
        + SearchVector("symptoms", weight="C", config="english")
        + SearchVector("body", weight="D", config="english")
    )


@dataclass
class _Texts:
    symptoms: list[str] = field(default_factory=list)
    symptom_names: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)


# Article rows whose title and text readers see besides the sections: (model, fields), in page order.
_BODY_ROWS = (("SafetyCallout", ("title", "body")), ("Section", ("heading", "body")), ("ActionStep", ("title", "body")))


def _revision_texts(revision_ids: list[int], apps: Apps) -> dict[int, _Texts]:
    """The symptom and body text of each revision, in a fixed number of queries.

    Symptoms: each symptom's name and description and what the content says of
    it (a row's ``text``); body: safety callouts, sections and action steps.
    """
    texts: dict[int, _Texts] = defaultdict(_Texts)
    for model_name, fields in _BODY_ROWS:
        rows = apps.get_model("articles", model_name)._default_manager.filter(revision_id__in=revision_ids)
        for revision_id, *parts in rows.order_by("revision_id", "position", "key").values_list("revision_id", *fields):
            texts[revision_id].body += parts
    for model, symptom_field in symptom_references_in(apps):
        rows = model._default_manager.filter(revision_id__in=revision_ids).order_by("revision_id", "position", "pk")
        has_text = any(model_field.name == "text" for model_field in model._meta.concrete_fields)
        columns = ["revision_id", f"{symptom_field}__name", f"{symptom_field}__description"]
        for revision_id, name, description, *text in rows.values_list(*columns, *(["text"] if has_text else [])):
            texts[revision_id].symptoms += [name, description, *text]
            texts[revision_id].symptom_names.append(name)
    return texts


def symptom_references_in(apps: Apps) -> list[tuple[type, str]]:
    """Every content row that shows a symptom, as ``articles.models.symptom_references`` finds them.

    Found again here from ``apps``, so the backfill migrations (search's, the live symptom tallies') read their
    own models.
    """
    Revision = apps.get_model("articles", "Revision")
    Symptom = apps.get_model("articles", "Symptom")
    references = []
    for relation in Revision._meta.related_objects:
        if not relation.one_to_many or relation.field.name != "revision":
            continue
        for model_field in relation.related_model._meta.concrete_fields:
            if model_field.many_to_one and model_field.related_model is Symptom:
                references.append((relation.related_model, model_field.name))
    return references


def _join(parts: Iterable[str | None]) -> str:
    return "\n".join(part for part in parts if part)


# --- Reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One thing a reader asked for: a word or a quoted phrase, as its words; ``exclude`` for ``-word``."""

    words: tuple[str, ...]
    exclude: bool = False


# A quoted phrase (to the closing quote or the end), or a run of anything but space and quotes.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+?)(?=\s|"|$)')
_WORD = re.compile(r"[^\W_]+")


def parse_query(text: str) -> list[list[Term]]:
    """The query as an AND of OR-groups of terms, read as ``websearch_to_tsquery`` reads it.

    Punctuation only separates words (nothing in the text is syntax but quotes,
    ``or`` and a leading ``-``); stop words are dropped, but for those inside a
    phrase or a hyphenated word; a term with no word left is dropped.
    """
    groups: list[list[Term]] = []
    join_next = False
    for match in _TOKEN.finditer(text):
        minus, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None and bare.casefold() == "or":
            join_next = bool(groups)
            continue
        exclude = bool(minus) if phrase is not None else bare.startswith("-")
        words = _without_outer_stop_words(_WORD.findall((phrase if phrase is not None else bare).casefold()))
        if not words:
            continue
        term = Term(words, exclude)
        if join_next and not exclude and not any(other.exclude for other in groups[-1]):
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    return groups


def _without_outer_stop_words(words: list[str]) -> tuple[str, ...]:
    """``words`` without stop words at either end; those inside a phrase stay ("pins and needles").

    PostgreSQL drops every stop word but keeps its place in a phrase (``pin <2> needl``);
    SQLite's index keeps stop words, so the phrase keeps them to match the same text.
    """
    start, end = 0, len(words)
    while start < end and words[start] in STOP_WORDS:
        start += 1
    while end > start and words[end - 1] in STOP_WORDS:
        end -= 1
    return tuple(words[start:end])


def fts5_query(groups: Sequence[Sequence[Term]]) -> str:
    """An FTS5 MATCH expression for ``groups``: every word a quoted string, so no input is syntax.

    ``(a) AND (b OR "c d") NOT ("e")``; empty when nothing positive is asked for.
    """
    wanted = [group for group in groups if not group[0].exclude]
    if not wanted:
        return ""
    expression = " AND ".join("(" + " OR ".join(_fts5_phrase(term) for term in group) + ")" for group in wanted)
    excluded = [_fts5_phrase(group[0]) for group in groups if group[0].exclude]
    if excluded:
        expression = f"({expression}) NOT ({' OR '.join(excluded)})"
    return expression


def _fts5_phrase(term: Term) -> str:
    # Words are letters and digits only, so they need no escaping inside the quotes.
    return '"' + " ".join(term.words) + '"'


def websearch_text(groups: Sequence[Sequence[Term]]) -> str:
    """``groups`` again as ``websearch_to_tsquery`` input: only words, quotes, ``or`` and ``-``.

    PostgreSQL then reads exactly what SQLite's ``fts5_query`` reads, and no
    character of the reader's (a NUL, a colon, a parenthesis) reaches it.
    """
    return " ".join(
        " or ".join(("-" if term.exclude else "") + _fts5_phrase(term) for term in group) for group in groups
    )


def search(text: str, *, kind: str) -> list[int]:
    """The ids of the live revisions of ``kind`` matching ``text``, best first, at most ``MAX_RESULTS`` + 1.

    One query, served by the full-text index; the extra id says there are more. Only the newest
    ``RANK_WINDOW`` matches are ranked, so its cost does not grow with the library.
    """
    groups = parse_query(text)
    if not any(not group[0].exclude for group in groups):
        return []
    entries = SearchEntry.objects.filter(kind=kind)
    if connection.vendor == "postgresql":
        query = SearchQuery(websearch_text(groups), config="english", search_type="websearch")
        window = entries.filter(document=query).order_by("-pk").values("pk")[:RANK_WINDOW]
        ranked = (
            entries.filter(pk__in=window)
            .live()
            .annotate(rank=SearchRank(F("document"), query, weights=PG_WEIGHTS, cover_density=True))
            .order_by("-rank", "article_id")
        )
    else:
        weights = ", ".join(str(weight) for weight in FTS_WEIGHTS)
        match = fts5_query(groups)
        # The window: from the lowest rowid among the newest RANK_WINDOW matches (of any kind) up.
        window = (
            f"{FTS_TABLE}.rowid >= (SELECT min(rowid) FROM (SELECT rowid FROM {FTS_TABLE} "  # noqa: S608
            f"WHERE {FTS_TABLE} MATCH %s ORDER BY rowid DESC LIMIT %s))"
        )
        ranked = (
            entries.extra(  # noqa: S610 - FTS5 needs its table in the FROM clause for MATCH and bm25
                tables=[FTS_TABLE],
                where=[f"{FTS_TABLE}.rowid = articles_searchentry.id", f"{FTS_TABLE} MATCH %s", window],
                params=[match, match, RANK_WINDOW],
                select={"rank": f"bm25({FTS_TABLE}, {weights})"},
            )
            .live()
            .order_by("rank", "article_id")
        )
    return list(ranked.values_list("revision_id", flat=True)[: MAX_RESULTS + 1])


def entry_texts(revision_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """The indexed texts of ``revision_ids`` that a snippet is cut from, after the summary: (symptoms, body)."""
    rows = SearchEntry.objects.filter(revision_id__in=revision_ids).values_list("revision_id", "symptoms", "body")
    return {revision_id: tuple(texts) for revision_id, *texts in rows}


# --- Did you mean ----------------------------------------------------------------------

# pg_trgm's similarity a word must reach to be suggested for a reader's word (its ``%`` operator
# finds candidates from 0.3, its default threshold; this keeps only close ones).
SUGGESTION_MIN_SIMILARITY = 0.4
# At most this many of a query's words are looked up for a suggestion: one query each.
MAX_SUGGESTED_WORDS = 4
# SQLite: the candidates sharing most trigrams with a word, compared as PostgreSQL compares them.
TRIGRAM_CANDIDATES = 50


def suggest(text: str, *, kind: str) -> tuple[str, list[int]]:
    """A query close to ``text`` that finds live content of ``kind``, and what it finds (``search``'s ids, from
    the search that checked it: the caller shows them, never searching again); ("", []) when there is none.

    For a query that found nothing: each of its first ``MAX_SUGGESTED_WORDS``
    words that is not in the vocabulary (``SearchTerm``) is replaced by the most
    similar word that is (trigram similarity, as ``pg_trgm`` measures it, at
    least ``SUGGESTION_MIN_SIMILARITY``; ties alphabetical). The result is
    offered only if it finds live content, so withdrawn words are never
    suggested. Queries: one for the known words, one per unknown word, one search.
    """
    words = list(
        dict.fromkeys(
            word
            for group in parse_query(text)
            for term in group
            if not term.exclude
            for word in term.words
            if word not in STOP_WORDS
        )
    )
    words = words[:MAX_SUGGESTED_WORDS]
    if not words:
        return "", []
    known = set(SearchTerm.objects.filter(word__in=words).values_list("word", flat=True))
    replaced = {}
    for word in words:
        if word in known or not MIN_TERM_CHARS <= len(word) <= MAX_TERM_CHARS:
            continue
        closest = _closest_term(word)
        if closest:
            replaced[word] = closest
    if not replaced:
        return "", []
    suggestion = " ".join(replaced.get(word, word) for word in words)
    ranked = search(suggestion, kind=kind)
    return (suggestion, ranked) if ranked else ("", [])


def _closest_term(word: str) -> str:
    if connection.vendor == "postgresql":
        return (
            # ``word % text``, served by the GIN trigram index (the lookup by class: it is registered
            # only with django.contrib.postgres installed).
            SearchTerm.objects.filter(TrigramSimilar(F("word"), Value(word)))
            .annotate(similarity=TrigramSimilarity("word", word))
            .filter(similarity__gte=SUGGESTION_MIN_SIMILARITY)
            .order_by("-similarity", "word")
            .values_list("word", flat=True)
            .first()
            or ""
        )
    # SQLite: candidates from the FTS5 trigram index (any trigram in common, most in common first),
    # then the same similarity PostgreSQL computes.
    inner = sorted({word[i : i + 3] for i in range(len(word) - 2)})
    match = " OR ".join(f'"{trigram}"' for trigram in inner)  # letters and digits only: no escaping needed
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT term.word FROM {TERM_TABLE} JOIN articles_searchterm term ON term.id = {TERM_TABLE}.rowid "  # noqa: S608
            f"WHERE {TERM_TABLE} MATCH %s ORDER BY {TERM_TABLE}.rank LIMIT %s",
            [match, TRIGRAM_CANDIDATES],
        )
        candidates = [row[0] for row in cursor.fetchall()]
    scored = [(trigram_similarity(word, candidate), candidate) for candidate in candidates]
    best = sorted((-score, candidate) for score, candidate in scored if score >= SUGGESTION_MIN_SIMILARITY)
    return best[0][1] if best else ""


def trigram_words(text: str) -> list[str]:
    """The words ``pg_trgm`` finds in ``text``: runs of letters and digits, where a number that is not a digit
    ("other numbers": the fractions, superscripts and circled numbers, category No) ends a word as a space does."""
    return _WORD.findall("".join(" " if unicodedata.category(char) == "No" else char for char in text))


def _trigrams(text: str) -> set[str]:
    """``pg_trgm``'s trigrams: each word lowered and padded (two spaces before, one after) on its own."""
    trigrams: set[str] = set()
    for word in trigram_words(text.lower()):  # as pg_trgm lowers
        padded = f"  {word} "
        trigrams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return trigrams


def trigram_similarity(a: str, b: str) -> float:
    """``pg_trgm``'s ``similarity(a, b)``: shared trigrams over all trigrams (split and padded as it does)."""
    first, second = _trigrams(a), _trigrams(b)
    return len(first & second) / len(first | second) if first | second else 0.0


# --- Snippets --------------------------------------------------------------------------

# Words of context a snippet shows.
SNIPPET_WORDS = 30
_MARKDOWN = re.compile(r"\[@[^\]]*\]|\]\([^)]*\)|[\[\]*_#>`|]+")
_TEXT_WORD = re.compile(r"[^\W_]+")
_SUFFIXES = ("ings", "ing", "edly", "ed", "ies", "es", "s", "ly")


def _stem(word: str) -> str:
    """A rough English stem, to mark "needle" for "needles" (the index's own stemming decides what matches)."""
    word = word.casefold()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def snippet(texts: Sequence[str], text: str) -> SafeString:
    """The passage of ``texts`` (summary, symptoms, body) with most of the reader's words, those words marked.

    The whole first text (the summary) when none has any of the words. One
    Python function over the stored text, so both databases show the same
    snippet. Everything from the content and the query is escaped; the only
    markup is ``<mark>`` around a matched word.
    """
    wanted = {
        _stem(word)
        for group in parse_query(text)
        for term in group
        if not term.exclude
        for word in term.words
        if word not in STOP_WORDS
    }
    best: tuple[int, str, list[re.Match[str]], bool] | None = None
    for raw in texts:
        plain = " ".join(_MARKDOWN.sub(" ", raw or "").split())
        words = list(_TEXT_WORD.finditer(plain))
        if not words:
            continue
        hits = [index for index, match in enumerate(words) if _stem(match.group()) in wanted]
        start = max(0, hits[0] - SNIPPET_WORDS // 4) if hits else 0
        window = words[start : start + SNIPPET_WORDS]
        score = len({_stem(match.group()) for match in window} & wanted)
        if best is None or score > best[0]:  # ties: the earlier text (the summary first)
            best = (score, plain, window, window[-1] is not words[-1])
    if best is None or best[0] == 0:
        return escape(texts[0] if texts else "")
    _, plain, window, cut = best
    begin, end = window[0].start(), window[-1].end()
    parts = ["… " if begin > 0 else ""]
    position = begin
    for match in window:
        if _stem(match.group()) in wanted:
            parts += [escape(plain[position : match.start()]), "<mark>", escape(match.group()), "</mark>"]
            position = match.end()
    parts += [escape(plain[position:end]), " …" if cut else ""]
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text is escaped above

"""Wording rules for what a frightened reader sees: questions and their hints.

A pathway can be logically safe and still under-triage a reader who misreads a
question. These checks block submission (``triage.kind`` reports them as errors
beside the structural checks); ``docs/pathway-format.md`` ("Wording") documents
each limit. They are pure functions of the pathway's content dictionary.

* A question's text is short: at most ``MAX_QUESTION_WORDS`` words. A question
  about several signs asks a plain question ("Do you have any of these?") and
  lists the signs in its hint, one Markdown list item ("- ") per sign.
* Each list item is at most ``MAX_LIST_ITEM_WORDS`` words.
* Questions and hints together read at or below ``READING_GRADE_LIMIT``
  (Flesch-Kincaid, as for articles; over all of them, because the grade of one
  short sentence says little).
* No question or hint refers the reader to internal sources ("the source
  article", "the guidance"): the reader has neither.
* No duration threshold the reader must judge ("over hours to days", "for more than
  2 weeks"): ask what the reader notices ("getting worse day by day").
* Medical words (``TERMS_NEEDING_EXPLANATION``) are explained in every question
  that uses them (each question may be the first a reader sees): the word is
  followed by an explanation in brackets, "angina (chest pain ...)", or the hint
  says what it is, "Angina is ...", "Angina means ...".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import textstat

from articles.content_checks import READING_GRADE_LIMIT, Finding

MAX_QUESTION_WORDS = 20
MAX_LIST_ITEM_WORDS = 12

# Words a reader may not know, each as a regular expression (case-insensitive, whole words).
# Add a term here when a pathway starts to use it; the check then asks for its explanation.
TERMS_NEEDING_EXPLANATION: Mapping[str, str] = {
    "angina": r"angina",
    "anaphylaxis": r"anaphyla\w*",
    "cauda equina": r"cauda\s+equina",
    "deep vein thrombosis": r"deep\s+vein\s+thrombosis",
    "DVT": r"DVT",
    "embolism": r"embolism",
    "Guillain-Barré syndrome": r"guillain[-\s]barr[ée]",
    "jaundice": r"jaundice",
    "neuropathy": r"neuropathy",
    "oedema": r"o?edema",
    "paraesthesia": r"par(?:a)?esthesia",
    "ulcer": r"ulcers?",
}

# Phrases that send the reader to something only the authors have.
INTERNAL_REFERENCES = re.compile(
    r"\bsource\s+article\b|\bthe\s+guidance\b|\bguidance\s+rows?\b|\bred[-\s]flags?\b|\bvignettes?\b|\.md\b",
    re.IGNORECASE,
)

# Time spans a frightened reader has to measure their history against.
DURATION_THRESHOLDS = re.compile(
    r"\b(?:over|for|within|in)\s+(?:more\s+than\s+|less\s+than\s+|at\s+least\s+)?"
    r"(?:\d+|an?|one|two|three|several|a\s+few|few)?\s*(?:minutes?|hours?|days?|weeks?|months?)\b"
    r"(?:\s+to\s+(?:\d+\s+)?(?:hours?|days?|weeks?|months?))?"
    r"|\bhours\s+to\s+days\b",
    re.IGNORECASE,
)

_LIST_ITEM = re.compile(r"^\s*[-*+]\s+(.*)$")
_WORD = re.compile(r"[\w'\u2019-]+")


def words(text: str) -> int:
    return len(_WORD.findall(text))


def list_items(text: str) -> list[str]:
    """The Markdown bullet list items of ``text`` (one line each)."""
    return [match.group(1) for line in text.splitlines() if (match := _LIST_ITEM.match(line))]


def is_explained(term_pattern: str, text: str, hint: str) -> bool:
    """Whether a use of the term in this question is explained in brackets or by the hint."""
    term = rf"\b(?:{term_pattern})\b"
    in_brackets = re.search(rf"{term}\s*\([^)]{{3,}}\)", f"{text}\n{hint}", re.IGNORECASE)
    defined = re.search(rf"{term}\s+(?:is|are|means|mean)\b", hint, re.IGNORECASE)
    return bool(in_brackets or defined)


def reading_grade(texts: Iterable[str]) -> float | None:
    """Flesch-Kincaid grade of the texts read together (list items count as sentences)."""
    sentences = []
    for text in texts:
        for line in text.splitlines():
            line = _LIST_ITEM.sub(r"\1", line).strip()
            if line:
                sentences.append(line if line.endswith((".", "?", "!", ":")) else f"{line}.")
    if not sentences:
        return None
    return textstat.flesch_kincaid_grade(" ".join(sentences))


def wording_errors(content: Mapping[str, Any]) -> list[Finding]:
    """Every wording rule the questions break (each finding names the question)."""
    errors: list[Finding] = []
    questions = content.get("questions", [])
    for question in questions:
        key, text, hint = question["key"], question["text"], question.get("help_text", "")
        where = f"question {key}"
        count = words(text)
        if count > MAX_QUESTION_WORDS:
            errors.append(
                Finding(
                    f"question_too_long:{key}",
                    f"Question {key} has {count} words; at most {MAX_QUESTION_WORDS}. Ask a plain question "
                    "and list the signs in its hint, one per line starting with '- '.",
                    where,
                )
            )
        for item in list_items(hint):
            if words(item) > MAX_LIST_ITEM_WORDS:
                errors.append(
                    Finding(
                        f"list_item_too_long:{key}",
                        f"Question {key}: the list item “{item}” has {words(item)} words; "
                        f"at most {MAX_LIST_ITEM_WORDS}.",
                        where,
                    )
                )
        for field, value in (("text", text), ("hint", hint)):
            if match := INTERNAL_REFERENCES.search(value):
                errors.append(
                    Finding(
                        f"internal_reference:{key}",
                        f"Question {key}: the {field} refers to “{match.group(0)}”, which the reader does not "
                        "have. Say what it says instead.",
                        where,
                    )
                )
        for field, value in (("text", text), ("hint", hint)):
            if match := DURATION_THRESHOLDS.search(value):
                errors.append(
                    Finding(
                        f"duration_threshold:{key}",
                        f"Question {key}: the {field} asks the reader to judge a time span (“{match.group(0)}”). "
                        "Ask what they notice instead, e.g. “getting worse day by day”.",
                        where,
                    )
                )
        for term, pattern in TERMS_NEEDING_EXPLANATION.items():
            used = re.search(rf"\b(?:{pattern})\b", f"{text}\n{hint}", re.IGNORECASE)
            if used and not is_explained(pattern, text, hint):
                errors.append(
                    Finding(
                        f"unexplained_term:{key}",
                        f"Question {key} uses “{used.group(0)}” without explaining it: follow it with an "
                        f"explanation in brackets, or say in the hint what {term} is.",
                        where,
                    )
                )
    grade = reading_grade(text for q in questions for text in (q["text"], q.get("help_text", "")))
    if grade is not None and grade > READING_GRADE_LIMIT:
        errors.append(
            Finding(
                "question_reading_grade",
                f"The questions and hints read at grade {grade:.1f} (Flesch-Kincaid); at most "
                f"{READING_GRADE_LIMIT:g}. Use shorter words and sentences.",
                "questions",
            )
        )
    return errors

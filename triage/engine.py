"""Triage evaluation and its safety checks: pure functions of a pathway and answers.

Nothing here touches the database. A pathway revision is turned into a
``Pathway`` (plain, immutable data) once; evaluating it is deterministic and
stateless, which is what lets the safety checks enumerate every combination of
answers and lets property tests run on generated pathways.

Semantics (a decision table with a "priority" hit policy):

* Every rule whose conditions hold counts ("all of" or "any of" its conditions).
* The most urgent disposition among the matching rules wins; between rules of
  equal urgency, the first by position.
* When no rule matches, the fallback disposition applies.

Two structural rules make the result monotone, so that answering "yes" to a
red flag can never lower the urgency: conditions on a red-flag question may only
use its red-flag answers, and no rule may be less urgent than the fallback.

Asking one question at a time (``asking_order``: red flags first, most urgent
first), the reader stops as soon as the answers given are ``settled``: the rules
they already fire reach a level that no answers to the remaining questions could
exceed. ``check_safety`` proves, for every prefix of every answer combination in
the asking order, that stopping there never gives a less urgent result than
answering everything.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


class Level(enum.IntEnum):
    """The urgency scale, least to most urgent."""

    SELF_CARE = 1
    ROUTINE = 2
    SOON = 3
    URGENT = 4
    EMERGENCY = 5

    @property
    def slug(self) -> str:
        return self.name.lower()

    @property
    def is_urgent(self) -> bool:
        """Same-day or emergency: the result leads with the emergency number."""
        return self >= Level.URGENT

    @classmethod
    def from_slug(cls, slug: str) -> Level:
        return cls[slug.upper()]


class Kind(enum.StrEnum):
    YES_NO = "yes_no"
    SINGLE = "single_choice"
    MULTIPLE = "multiple_choice"


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    is_red_flag: bool = False


@dataclass(frozen=True)
class Question:
    key: str
    kind: Kind
    text: str
    options: tuple[Option, ...]
    red_flag_level: Level | None = None

    @property
    def is_red_flag(self) -> bool:
        return self.red_flag_level is not None

    # Worked out once per question (a compiled pathway is kept and reused): every evaluation asks them.
    @cached_property
    def option_keys(self) -> tuple[str, ...]:
        return tuple(option.key for option in self.options)

    @cached_property
    def red_flag_options(self) -> frozenset[str]:
        return frozenset(option.key for option in self.options if option.is_red_flag)

    def answer_space(self) -> list[frozenset[str]]:
        """Every possible answer: one option, or any subset for multiple choice."""
        keys = self.option_keys
        if self.kind == Kind.MULTIPLE:
            return [frozenset(c) for n in range(len(keys) + 1) for c in itertools.combinations(keys, n)]
        return [frozenset([key]) for key in keys]

    @property
    def answer_count(self) -> int:
        return 2 ** len(self.options) if self.kind == Kind.MULTIPLE else len(self.options)


def asking_rank(red_flag_level: int | None) -> int:
    """Sort key (a stable sort of questions in position order) for the order they are asked in."""
    return -(red_flag_level or 0)


@dataclass(frozen=True)
class Disposition:
    key: str
    level: Level
    title: str
    is_fallback: bool = False


@dataclass(frozen=True)
class Condition:
    question: str
    option: str


@dataclass(frozen=True)
class Rule:
    key: str
    disposition: str
    conditions: tuple[Condition, ...]
    match_all: bool = True
    description: str = ""

    def matches(self, answers: Mapping[str, frozenset[str]]) -> bool:
        results = (condition.option in answers.get(condition.question, ()) for condition in self.conditions)
        return all(results) if self.match_all else any(results)


@dataclass(frozen=True)
class Vignette:
    key: str
    title: str
    answers: Mapping[str, tuple[str, ...]]
    minimum_level: Level


@dataclass(frozen=True)
class Pathway:
    questions: tuple[Question, ...]
    dispositions: tuple[Disposition, ...]
    rules: tuple[Rule, ...]
    vignettes: tuple[Vignette, ...] = ()

    def disposition(self, key: str) -> Disposition:
        return next(d for d in self.dispositions if d.key == key)

    @property
    def fallback(self) -> Disposition | None:
        return next((d for d in self.dispositions if d.is_fallback), None)

    def question(self, key: str) -> Question | None:
        return self._questions_by_key.get(key)

    @cached_property
    def _questions_by_key(self) -> dict[str, Question]:
        return {question.key: question for question in self.questions}

    @cached_property
    def _levels(self) -> dict[str, Level]:
        return {disposition.key: disposition.level for disposition in self.dispositions}

    @cached_property
    def asking_order(self) -> tuple[Question, ...]:
        """The order a reader is asked in: red flags first, most urgent first; then the rest.

        Ties keep the pathway's own order (its questions by position).
        """
        return tuple(sorted(self.questions, key=lambda question: asking_rank(question.red_flag_level)))

    @property
    def combination_count(self) -> int:
        return math.prod(question.answer_count for question in self.questions)


@dataclass(frozen=True)
class Result:
    disposition: Disposition
    fired_rules: tuple[str, ...]
    red_flags: tuple[str, ...]

    @property
    def level(self) -> Level:
        return self.disposition.level


class AnswerError(ValueError):
    """Missing or invalid answers; ``problems`` maps each question key to what is wrong, or, when the answers as a
    whole are wrong (not a mapping), ``whole`` says what (and ``problems`` is empty: no question is named)."""

    def __init__(self, problems: dict[str, str], *, whole: str = "") -> None:
        self.problems = problems
        self.whole = whole
        super().__init__(whole or "; ".join(f"{key}: {message}" for key, message in problems.items()))


# --- Answers and evaluation ----------------------------------------------------------

# What a refusal repeats of what it was sent: a few keys, each cut short, so that a large body cannot make a larger
# answer (a 1.7 MB body of unknown keys was answered with 10.7 MB).
MAX_REPORTED_KEYS = 10
MAX_SHOWN_CHARS = 80


def shown(value: object) -> str:
    """``value`` as text, cut to ``MAX_SHOWN_CHARS`` (with an ellipsis), to repeat it in a refusal."""
    text = str(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "\u2026"


def normalise_answers(pathway: Pathway, raw: Mapping[str, Any], *, partial: bool = False) -> dict[str, frozenset[str]]:
    """Check raw answers (an option key, or a list of keys for multiple choice) for every question.

    With ``partial``, questions not answered yet are left out rather than refused.
    """
    if not isinstance(raw, Mapping):
        raise AnswerError({}, whole="must map each question's key to its answer")
    problems: dict[str, str] = {}
    answers: dict[str, frozenset[str]] = {}
    known = {question.key for question in pathway.questions}
    strangers = [key for key in raw if key not in known]
    for key in strangers[:MAX_REPORTED_KEYS]:
        problems[shown(key)] = "not a question of this pathway"
    if len(strangers) > MAX_REPORTED_KEYS:
        last = list(problems)[-1]
        problems[last] += f" (nor are {len(strangers) - MAX_REPORTED_KEYS} more keys, not listed)"
    for question in pathway.questions:
        if question.key not in raw:
            if not partial:
                problems[question.key] = "this question needs an answer"
            continue
        value = raw[question.key]
        if question.kind == Kind.MULTIPLE:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                problems[question.key] = "give a list of option keys (an empty list for none)"
                continue
            chosen = list(value)
            if len(set(chosen)) != len(chosen):
                problems[question.key] = "an option is given twice"
                continue
        else:
            if not isinstance(value, str):
                problems[question.key] = "give one option key"
                continue
            chosen = [value]
        unknown = [v for v in chosen if v not in question.option_keys]
        if unknown:
            allowed = ", ".join(question.option_keys)
            problems[question.key] = f"{shown(unknown[0])!r} is not an answer to this question (one of: {allowed})"
            continue
        answers[question.key] = frozenset(chosen)
    if problems:
        raise AnswerError(problems)
    return answers


def evaluate(pathway: Pathway, answers: Mapping[str, frozenset[str]]) -> Result:
    """The disposition for these (normalised) answers, the rules that fired and the red flags present.

    A question left out counts as answered with none of its options (the least urgent answer).
    """
    fired = [rule for rule in pathway.rules if rule.matches(answers)]
    red_flags = tuple(
        question.key
        for question in pathway.questions
        if question.is_red_flag and answers.get(question.key, frozenset()) & question.red_flag_options
    )
    if fired:
        # max() keeps the first of equals, so ties go to the rule listed first.
        winner = max(fired, key=lambda rule: pathway._levels[rule.disposition])
        disposition = pathway.disposition(winner.disposition)
    else:
        fallback = pathway.fallback
        if fallback is None:
            raise AnswerError({"pathway": "no rule matches and the pathway has no fallback disposition"})
        disposition = fallback
    return Result(disposition=disposition, fired_rules=tuple(rule.key for rule in fired), red_flags=red_flags)


def _can_fire(pathway: Pathway, rule: Rule, answers: Mapping[str, frozenset[str]]) -> bool:
    """Whether some answers to the questions not answered yet would make ``rule`` match."""
    possible = []
    chosen: dict[str, str] = {}  # one answer per unanswered yes/no or single-choice question
    for condition in rule.conditions:
        given = answers.get(condition.question)
        if given is not None:
            possible.append(condition.option in given)
            continue
        question = pathway.question(condition.question)
        if question is None:
            possible.append(False)
        elif question.kind == Kind.MULTIPLE:
            possible.append(True)
        else:
            other = chosen.setdefault(condition.question, condition.option)
            possible.append(other == condition.option or not rule.match_all)
    return all(possible) if rule.match_all else any(possible)


def reachable_level(pathway: Pathway, answers: Mapping[str, frozenset[str]]) -> Level:
    """The most urgent level any answers to the remaining questions could still lead to.

    Exact, without enumerating: the most urgent of all completions is the most urgent
    rule that some completion fires (or the fallback, which every rule is at least).
    """
    fallback = pathway.fallback
    best = fallback.level if fallback is not None else Level.SELF_CARE
    for rule in pathway.rules:
        level = pathway._levels.get(rule.disposition)
        if level is not None and level > best and _can_fire(pathway, rule, answers):
            best = level
    return best


def settled(pathway: Pathway, answers: Mapping[str, frozenset[str]]) -> Result | None:
    """The result at once if the answers given (any subset) already force the disposition every way of
    answering the rest would give; ``None`` while more answers could make it more urgent, or change
    the advice at the same urgency.

    The result is ``evaluate`` of the answers given: every completion fires its rules too
    (the rules are monotone), so no completion is less urgent either. Nothing more urgent can
    fire (``reachable_level``); an equally urgent rule with other advice could take over only
    if it is listed before the rule that won (ties go to the first), or if the fallback stands,
    so such a rule that could still fire keeps the check asking (a "swollen ankles" question
    is asked although its advice is as urgent as the fallback's).
    """
    result = evaluate(pathway, answers)
    if result.level < reachable_level(pathway, answers):
        return None
    for rule in pathway.rules:
        if rule.key in result.fired_rules and pathway._levels[rule.disposition] == result.level:
            break  # the winner: the rules after it lose a tie
        if (
            rule.disposition != result.disposition.key
            and pathway._levels.get(rule.disposition) == result.level
            and _can_fire(pathway, rule, answers)
        ):
            return None
    return result


def next_question(
    pathway: Pathway, answers: Mapping[str, frozenset[str]], *, after: str | None = None
) -> Question | None:
    """The question to ask next, or ``None`` when the answers are settled.

    By default the first unanswered question in the asking order. ``after``, the key of the
    question just answered, walks on in order instead (a reader changing an answer sees
    the following questions again, their answers kept); past the last, the first unanswered.
    """
    if settled(pathway, answers) is not None:
        return None
    order = pathway.asking_order
    keys = [question.key for question in order]
    if after in keys and keys.index(after) + 1 < len(order):
        return order[keys.index(after) + 1]
    return next(question for question in order if question.key not in answers)


def all_answer_sets(pathway: Pathway) -> Iterator[dict[str, frozenset[str]]]:
    keys = [question.key for question in pathway.questions]
    for combination in itertools.product(*(question.answer_space() for question in pathway.questions)):
        yield dict(zip(keys, combination, strict=True))


def vignette_answers(pathway: Pathway, vignette: Vignette) -> dict[str, frozenset[str]]:
    """A vignette's answers; questions it leaves out are answered "no" (yes/no) or "none" (multiple choice)."""
    raw: dict[str, Any] = {}
    for question in pathway.questions:
        given = vignette.answers.get(question.key)
        if question.kind == Kind.MULTIPLE:
            raw[question.key] = list(given or ())
        elif given:
            raw[question.key] = given[0] if len(given) == 1 else list(given)
        elif question.kind == Kind.YES_NO:
            raw[question.key] = "no"
    for key in vignette.answers:
        if pathway.question(key) is None:
            raw[key] = vignette.answers[key]
    return normalise_answers(pathway, raw)


# --- Safety checks -------------------------------------------------------------------


@dataclass
class Finding:
    code: str
    message: str


@dataclass
class SafetyReport:
    """``errors``: the pathway is malformed (blocks submission). ``failures``: a safety
    property does not hold (blocks approval). ``warnings``: over-triage in vignettes."""

    errors: list[Finding] = field(default_factory=list)
    failures: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    combinations_checked: int = 0

    @property
    def passed(self) -> bool:
        return not self.errors and not self.failures


def _describe(pathway: Pathway, answers: Mapping[str, frozenset[str]]) -> str:
    parts = []
    for question in pathway.questions:
        chosen = sorted(answers.get(question.key, ()))
        parts.append(f"{question.key}={'+'.join(chosen) if chosen else 'none'}")
    return ", ".join(parts)


def _describe_prefix(questions: tuple[Question, ...], answers: Mapping[str, frozenset[str]]) -> str:
    if not questions:
        return "no answers"
    return ", ".join(f"{q.key}={'+'.join(sorted(answers[q.key])) or 'none'}" for q in questions)


def structural_errors(pathway: Pathway, *, max_combinations: int) -> list[Finding]:
    """What makes a pathway malformed, before any answer is considered."""
    errors: list[Finding] = []
    fallbacks = [d for d in pathway.dispositions if d.is_fallback]
    if len(fallbacks) != 1:
        errors.append(
            Finding("fallback", f"A pathway needs exactly one fallback disposition; it has {len(fallbacks)}.")
        )
    if not pathway.questions:
        errors.append(Finding("no_questions", "The pathway has no questions."))
    dispositions = {d.key for d in pathway.dispositions}
    for question in pathway.questions:
        if len(question.options) < 2:
            errors.append(Finding(f"options:{question.key}", f"Question {question.key} needs at least two answers."))
        if question.is_red_flag and not question.red_flag_options:
            errors.append(
                Finding(
                    f"red_flag_answer:{question.key}",
                    f"Red-flag question {question.key} marks no answer as the red flag.",
                )
            )
        if not question.is_red_flag and question.red_flag_options:
            errors.append(
                Finding(
                    f"red_flag_level:{question.key}",
                    f"Question {question.key} has red-flag answers but no red-flag urgency.",
                )
            )
        if question.is_red_flag and fallbacks and question.red_flag_level < fallbacks[0].level:
            errors.append(
                Finding(
                    f"red_flag_below_fallback:{question.key}",
                    f"Red-flag question {question.key} is less urgent than the fallback disposition.",
                )
            )
    for rule in pathway.rules:
        if rule.disposition not in dispositions:
            errors.append(Finding(f"rule_disposition:{rule.key}", f"Rule {rule.key} leads to no known disposition."))
            continue
        if not rule.conditions:
            errors.append(Finding(f"rule_empty:{rule.key}", f"Rule {rule.key} has no conditions."))
        if fallbacks and pathway.disposition(rule.disposition).level < fallbacks[0].level:
            errors.append(
                Finding(
                    f"rule_below_fallback:{rule.key}",
                    f"Rule {rule.key} is less urgent than the fallback: answering more could lower the urgency.",
                )
            )
        for condition in rule.conditions:
            question = pathway.question(condition.question)
            if question is None or condition.option not in question.option_keys:
                errors.append(
                    Finding(
                        f"condition:{rule.key}",
                        f"Rule {rule.key} tests {condition.question}={condition.option}, which is not an answer.",
                    )
                )
            elif question.is_red_flag and condition.option not in question.red_flag_options:
                errors.append(
                    Finding(
                        f"condition_on_absence:{rule.key}",
                        f"Rule {rule.key} tests a non-red-flag answer of red-flag question {question.key}; "
                        "rules may only act on a red flag being present.",
                    )
                )
    for vignette in pathway.vignettes:
        for question_key, options in vignette.answers.items():
            question = pathway.question(question_key)
            if question is None or any(option not in question.option_keys for option in options):
                errors.append(
                    Finding(
                        f"vignette:{vignette.key}",
                        f"Vignette {vignette.key} gives an invalid answer to {question_key}.",
                    )
                )
    count = pathway.combination_count
    if count > max_combinations:
        errors.append(
            Finding(
                "too_large",
                f"The pathway has {count:,} answer combinations; the checks cover at most "
                f"{max_combinations:,}. Split it or use fewer questions or options.",
            )
        )
    return errors


def check_safety(pathway: Pathway, *, max_combinations: int = 2**16) -> SafetyReport:
    """Prove the pathway's safety properties by enumerating every combination of answers.

    The enumeration walks the answers in the asking order, so each prefix of each
    combination (where a reader answering one question at a time could be) is visited
    once: a prefix that would stop early (``settled``) must be at least as urgent as
    every way of answering the rest ("early_stop" otherwise).

    Exhaustive enumeration is exact; ``max_combinations`` bounds its cost (2^16
    combinations take well under a second), and a larger pathway is refused as
    too large to verify rather than checked partially.
    """
    report = SafetyReport(errors=structural_errors(pathway, max_combinations=max_combinations))
    if report.errors:
        return report

    never_fired = {rule.key for rule in pathway.rules}
    red_flag_failures: dict[str, str] = {}
    early_stops: list[str] = []
    gaps = 0
    gap_example = ""
    order = pathway.asking_order
    answers: dict[str, frozenset[str]] = {}

    def leaf() -> Level | None:
        nonlocal gaps, gap_example
        report.combinations_checked += 1
        try:
            result = evaluate(pathway, answers)
        except AnswerError:
            gaps += 1
            gap_example = gap_example or _describe(pathway, answers)
            return None
        never_fired.difference_update(result.fired_rules)
        for key in result.red_flags:
            question = pathway.question(key)
            if result.level < question.red_flag_level and key not in red_flag_failures:
                red_flag_failures[key] = (
                    f"Red flag {key} (at least {question.red_flag_level.slug}) is out-voted: the answers "
                    f"{_describe(pathway, answers)} give {result.disposition.key} ({result.level.slug})."
                )
        return result.level

    def visit(depth: int) -> Level | None:
        """Every completion of the first ``depth`` answers in the asking order: its most urgent level.

        A prefix the reader would stop at (``settled``) must be at least that urgent.
        """
        if depth == len(order):
            return leaf()
        question = order[depth]
        levels = []
        for answer in question.answer_space():
            answers[question.key] = answer
            levels.append(visit(depth + 1))
        del answers[question.key]
        most_urgent = max((level for level in levels if level is not None), default=None)
        try:
            early = settled(pathway, answers)
        except AnswerError:
            early = None
        if early is not None and most_urgent is not None and early.level < most_urgent and not early_stops:
            early_stops.append(
                f"Stopping after {_describe_prefix(order[:depth], answers)} gives {early.disposition.key} "
                f"({early.level.slug}), but answering every question can give {most_urgent.slug}."
            )
        return most_urgent

    visit(0)
    if early_stops:
        report.failures.append(Finding("early_stop", early_stops[0]))
    if gaps:
        report.failures.append(
            Finding("gap", f"{gaps:,} answer combinations reach no disposition, e.g. {gap_example}.")
        )
    for key, message in red_flag_failures.items():
        report.failures.append(Finding(f"red_flag:{key}", message))
    for rule in pathway.rules:
        if rule.key in never_fired:
            report.failures.append(Finding(f"dead_rule:{rule.key}", f"Rule {rule.key} can never fire."))
    for vignette in pathway.vignettes:
        try:
            answers = vignette_answers(pathway, vignette)
        except AnswerError as error:
            report.failures.append(Finding(f"vignette:{vignette.key}", f"Vignette {vignette.key}: {error}"))
            continue
        result = evaluate(pathway, answers)
        if result.level < vignette.minimum_level:
            report.failures.append(
                Finding(
                    f"vignette:{vignette.key}",
                    f"Vignette “{vignette.title}” is under-triaged: {result.level.slug}, "
                    f"needs at least {vignette.minimum_level.slug}.",
                )
            )
        elif result.level > vignette.minimum_level:
            report.warnings.append(
                Finding(
                    f"over_triage:{vignette.key}",
                    f"Vignette “{vignette.title}” is over-triaged: {result.level.slug}, "
                    f"expected {vignette.minimum_level.slug}.",
                )
            )
    return report

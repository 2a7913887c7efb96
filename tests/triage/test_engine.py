"""The evaluation engine and its safety checks, on hand-made and generated pathways (no database)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.engine import (
    AnswerError,
    Condition,
    Disposition,
    Kind,
    Level,
    Option,
    Pathway,
    Question,
    Rule,
    Vignette,
    all_answer_sets,
    check_safety,
    evaluate,
    normalise_answers,
)

YES_NO = (Option("yes", "Yes", True), Option("no", "No"))


def yes_no(key: str, level: Level | None = None) -> Question:
    options = YES_NO if level else (Option("yes", "Yes"), Option("no", "No"))
    return Question(key, Kind.YES_NO, key, options, level)


def small_pathway(**overrides: object) -> Pathway:
    parts = {
        "questions": (yes_no("stroke", Level.EMERGENCY), yes_no("tingling", Level.SOON)),
        "dispositions": (
            Disposition("call", Level.EMERGENCY, "Call"),
            Disposition("gp", Level.SOON, "See GP"),
            Disposition("fallback", Level.ROUTINE, "Routine", is_fallback=True),
        ),
        "rules": (
            Rule("r-stroke", "call", (Condition("stroke", "yes"),)),
            Rule("r-tingling", "gp", (Condition("tingling", "yes"),)),
        ),
        "vignettes": (Vignette("v1", "Stroke", {"stroke": ("yes",)}, Level.EMERGENCY),),
    }
    parts.update(overrides)
    return Pathway(**parts)


def answers(pathway: Pathway, **given: object) -> dict[str, frozenset[str]]:
    raw = {q.key: ([] if q.kind == Kind.MULTIPLE else "no") for q in pathway.questions}
    raw.update(given)
    return normalise_answers(pathway, raw)


def test_the_most_urgent_matching_rule_wins():
    pathway = small_pathway()
    result = evaluate(pathway, answers(pathway, stroke="yes", tingling="yes"))
    assert result.disposition.key == "call"
    assert result.fired_rules == ("r-stroke", "r-tingling")
    assert result.red_flags == ("stroke", "tingling")
    assert evaluate(pathway, answers(pathway, tingling="yes")).disposition.key == "gp"
    assert evaluate(pathway, answers(pathway)).disposition.key == "fallback"


def test_missing_and_invalid_answers_give_clear_errors():
    pathway = small_pathway()
    with pytest.raises(AnswerError) as caught:
        normalise_answers(pathway, {"stroke": "maybe", "unknown": "yes"})
    assert caught.value.problems == {
        "unknown": "not a question of this pathway",
        "stroke": "'maybe' is not an answer to this question (one of: yes, no)",
        "tingling": "this question needs an answer",
    }
    with pytest.raises(AnswerError):
        normalise_answers(pathway, ["stroke"])  # type: ignore[arg-type]
    with pytest.raises(AnswerError, match="give one option key"):
        normalise_answers(pathway, {"stroke": ["yes"], "tingling": "no"})


def test_the_demo_sized_pathway_passes_its_checks():
    report = check_safety(small_pathway())
    assert report.passed
    assert report.combinations_checked == 4


def test_a_gap_is_refused():
    pathway = small_pathway(dispositions=small_pathway().dispositions[:2])  # no fallback
    report = check_safety(pathway)
    assert [e.code for e in report.errors] == ["fallback"]


def test_a_red_flag_that_can_be_out_voted_is_refused():
    # The stroke red flag only leads to "see GP": out-voted below its declared emergency level.
    pathway = small_pathway(
        rules=(
            Rule("r-stroke", "gp", (Condition("stroke", "yes"),)),
            Rule("r-tingling", "gp", (Condition("tingling", "yes"),)),
        )
    )
    report = check_safety(pathway)
    assert [f.code for f in report.failures] == ["red_flag:stroke", "vignette:v1"]
    assert "Red flag stroke (at least emergency) is out-voted" in report.failures[0].message


def test_a_rule_that_can_never_fire_is_refused():
    pathway = small_pathway(
        questions=(
            *small_pathway().questions,
            Question("onset", Kind.SINGLE, "Onset", (Option("sudden", "Sudden"), Option("gradual", "Gradual"))),
        ),
        rules=(
            *small_pathway().rules,
            Rule("r-impossible", "gp", (Condition("onset", "sudden"), Condition("onset", "gradual"))),
        ),
        vignettes=(),
    )
    report = check_safety(pathway)
    assert [f.code for f in report.failures] == ["dead_rule:r-impossible"]


def test_a_failing_vignette_is_refused_and_over_triage_is_a_warning():
    pathway = small_pathway(
        vignettes=(
            Vignette("under", "Tingling needs emergency?", {"tingling": ("yes",)}, Level.EMERGENCY),
            Vignette("over", "Stroke but only routine expected", {"stroke": ("yes",)}, Level.ROUTINE),
        )
    )
    report = check_safety(pathway)
    assert [f.code for f in report.failures] == ["vignette:under"]
    assert [w.code for w in report.warnings] == ["over_triage:over"]


def test_structural_rules_that_keep_triage_monotone():
    below = small_pathway(
        rules=(*small_pathway().rules, Rule("r-self", "selfcare", (Condition("tingling", "yes"),))),
        dispositions=(*small_pathway().dispositions, Disposition("selfcare", Level.SELF_CARE, "S")),
    )
    assert "rule_below_fallback:r-self" in [e.code for e in check_safety(below).errors]
    absence = small_pathway(rules=(*small_pathway().rules, Rule("r-no", "gp", (Condition("stroke", "no"),))))
    assert "condition_on_absence:r-no" in [e.code for e in check_safety(absence).errors]


def test_pathways_too_large_to_enumerate_are_refused():
    pathway = small_pathway(questions=tuple(yes_no(f"q{n}") for n in range(17)), rules=(), vignettes=())
    report = check_safety(pathway, max_combinations=2**16)
    assert [e.code for e in report.errors] == ["too_large"]


# --- Properties over generated pathways ----------------------------------------------------


@st.composite
def pathways(draw: st.DrawFn) -> Pathway:
    """Structurally valid pathways: monotone rules, a fallback at the bottom of the scale."""
    fallback_level = draw(st.sampled_from(list(Level)[:3]))
    questions = []
    for n in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(list(Kind)))
        count = 2 if kind == Kind.YES_NO else draw(st.integers(2, 4))
        red_flag = draw(st.booleans())
        level = draw(st.sampled_from([lvl for lvl in Level if lvl >= fallback_level])) if red_flag else None
        keys = ("yes", "no") if kind == Kind.YES_NO else tuple(f"o{i}" for i in range(count))
        flagged = {keys[0]} if kind == Kind.YES_NO else set(draw(st.sets(st.sampled_from(keys), min_size=1)))
        options = tuple(Option(key, key, bool(red_flag and key in flagged)) for key in keys)
        questions.append(Question(f"q{n}", kind, f"Q{n}", options, level))
    dispositions = [Disposition("fallback", fallback_level, "Fallback", is_fallback=True)]
    for n, level in enumerate(
        draw(st.lists(st.sampled_from([lvl for lvl in Level if lvl >= fallback_level]), min_size=1, max_size=4))
    ):
        dispositions.append(Disposition(f"d{n}", level, f"D{n}"))
    usable = [Condition(q.key, o.key) for q in questions for o in q.options if not q.is_red_flag or o.is_red_flag]
    rules = []
    for n in range(draw(st.integers(0, 6))):
        conditions = tuple(draw(st.lists(st.sampled_from(usable), min_size=1, max_size=3, unique=True)))
        rules.append(Rule(f"r{n}", draw(st.sampled_from(dispositions[1:])).key, conditions, draw(st.booleans())))
    return Pathway(tuple(questions), tuple(dispositions), tuple(rules))


@st.composite
def pathway_and_answers(draw: st.DrawFn) -> tuple[Pathway, dict[str, frozenset[str]]]:
    pathway = draw(pathways())
    chosen = {q.key: draw(st.sampled_from(q.answer_space())) for q in pathway.questions}
    return pathway, chosen


@settings(max_examples=300, deadline=None)
@given(pathway_and_answers(), st.randoms())
def test_evaluation_is_deterministic(case, rng: random.Random):
    pathway, chosen = case
    shuffled = dict(rng.sample(list(chosen.items()), len(chosen)))
    assert evaluate(pathway, chosen) == evaluate(pathway, chosen) == evaluate(pathway, shuffled)


@settings(max_examples=300, deadline=None)
@given(pathway_and_answers(), st.data())
def test_adding_a_positive_red_flag_answer_never_lowers_the_urgency(case, data):
    pathway, chosen = case
    red_flags = [q for q in pathway.questions if q.is_red_flag]
    if not red_flags:
        return
    question = data.draw(st.sampled_from(red_flags))
    option = data.draw(st.sampled_from(sorted(question.red_flag_options)))
    if question.kind != Kind.MULTIPLE and chosen[question.key] & question.red_flag_options:
        return  # already answered with a red flag: choosing another one is not adding one
    before = evaluate(pathway, chosen)
    if question.kind == Kind.MULTIPLE:
        chosen = {**chosen, question.key: chosen[question.key] | {option}}
    else:
        chosen = {**chosen, question.key: frozenset([option])}
    after = evaluate(pathway, chosen)
    assert after.level >= before.level
    assert question.key in after.red_flags


@settings(max_examples=300, deadline=None)
@given(pathway_and_answers())
def test_the_result_is_the_most_urgent_matching_rule_or_the_fallback(case):
    pathway, chosen = case
    result = evaluate(pathway, chosen)
    matching = [
        rule
        for rule in pathway.rules
        if (all if rule.match_all else any)(c.option in chosen[c.question] for c in rule.conditions)
    ]
    assert set(result.fired_rules) == {rule.key for rule in matching}
    if matching:
        assert result.level == max(pathway.disposition(rule.disposition).level for rule in matching)
        assert result.disposition.key in {rule.disposition for rule in matching}
    else:
        assert result.disposition == pathway.fallback


@settings(max_examples=100, deadline=None)
@given(pathways())
def test_generated_pathways_are_structurally_valid_and_fully_enumerated(pathway):
    report = check_safety(pathway)
    if pathway.combination_count > 2**16:  # beyond what the checks enumerate: refused, and said why
        assert [finding.code for finding in report.errors] == ["too_large"]
        return
    assert report.errors == []
    assert report.combinations_checked == pathway.combination_count == sum(1 for _ in all_answer_sets(pathway))

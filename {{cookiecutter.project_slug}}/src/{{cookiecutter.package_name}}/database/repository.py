{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
"""Data access: a generic typed repository, and one subclass per table.

Repositories flush (so constraint violations surface where they happen) but
never commit: the unit of work (``database/session.py``) commits once at the
end, or rolls everything back.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
{% if cookiecutter.llm != "none" %}
from datetime import date, datetime
{% else %}
from datetime import datetime
{% endif %}
{% if cookiecutter.python_version == "3.11" %}
from typing import Any, Generic, TypeVar
{% else %}
from typing import Any
{% endif %}
from uuid import UUID

{% set sqlalchemy_names = ["ColumnElement", "ColumnExpressionArgument"] %}
{% if cookiecutter.llm != "none" %}
{% set sqlalchemy_names = sqlalchemy_names + ["RowMapping", "bindparam", "case"] %}
{% else %}
{% set sqlalchemy_names = sqlalchemy_names + ["bindparam"] %}
{% endif %}
{% if cookiecutter.oidc_signin == "yes" %}
{% set sqlalchemy_names = sqlalchemy_names + ["delete"] %}
{% endif %}
{% set sqlalchemy_names = sqlalchemy_names + ["func", "inspect", "or_", "select"] %}
{% if jwt %}
{% set sqlalchemy_names = sqlalchemy_names + ["update"] %}
{% endif %}
{% set sqlalchemy_import = "from sqlalchemy import " ~ sqlalchemy_names | join(", ") %}
{% if sqlalchemy_import | length <= 100 %}
{{ sqlalchemy_import }}
{% else %}
from sqlalchemy import (
{% for name in sqlalchemy_names %}
    {{ name }},
{% endfor %}
)
{% endif %}
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption

from {{ cookiecutter.package_name }}.core.domain import UserRole
from {{ cookiecutter.package_name }}.database.direct_reads import DirectReads
from {{ cookiecutter.package_name }}.database.models import (
{% if api_keys %}
    ApiKey,
{% endif %}
    AuditLogEntry,
{% if cookiecutter.llm != "none" %}
    Conversation,
    ConversationMessage,
    LLMCall,
{% endif %}
{% if jwt %}
    LoginSession,
{% endif %}
    Note,
{% if cookiecutter.oidc_signin == "yes" %}
    OidcIdentity,
    OidcLoginState,
{% endif %}
    Record,
    User,
    normalize_email,
)
{% if cookiecutter.python_version == "3.11" %}

RecordT = TypeVar("RecordT", bound=Record)


class Repository(Generic[RecordT]):
{% else %}


class Repository[RecordT: Record]:
{% endif %}
    """Create, read, update, delete and list the rows of ``model``."""

    model: type[RecordT]
    load_options: Sequence[ORMOption] = ()
    """Eager loads applied to every read, so returned relationships cost no extra query."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, record_id: UUID) -> RecordT | None:
        return await self.session.get(self.model, record_id, options=self.load_options)

    async def get_many(
        self, *filters: ColumnElement[bool], limit: int, offset: int = 0
    ) -> list[RecordT]:
        statement = (
            select(self.model)
            .options(*self.load_options)
            .where(*filters)
            .order_by(*self._ordering())
            .limit(limit)
            .offset(offset)
        )
        return list(await self.session.scalars(statement))

    async def count(self, *filters: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(self.model).where(*filters)
        return await self.session.scalar(statement) or 0

    async def exists(self, *filters: ColumnElement[bool]) -> bool:
        statement = select(self.model.id).where(*filters).limit(1)
        return await self.session.scalar(statement) is not None

    async def create(self, record: RecordT) -> RecordT:
        self.session.add(record)
        await self.session.flush()
        return record

    async def update(self, record: RecordT, changes: Mapping[str, Any]) -> RecordT:
        columns = inspect(self.model).column_attrs.keys()
        if unknown := set(changes) - set(columns):
            msg = f"{self.model.__name__} has no column {', '.join(sorted(unknown))}"
            raise ValueError(msg)
        for column, value in changes.items():
            setattr(record, column, value)
        await self.session.flush()
        return record

    async def delete(self, record: RecordT) -> None:
        await self.session.delete(record)
        await self.session.flush()

    def _ordering(self) -> tuple[ColumnExpressionArgument[Any], ...]:
        """Oldest first; the id breaks ties, so pages never overlap or skip a row."""
        return (self.model.created_at, self.model.id)


class UserRepository(Repository[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        statement = select(User).where(User.email == normalize_email(email))
        return await self.session.scalar(statement)

    @staticmethod
    def filters(
        *, role: UserRole | None = None, is_active: bool | None = None
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if role is not None:
            conditions.append(User.role == role)
        if is_active is not None:
            conditions.append(User.is_active.is_(is_active))
        return conditions


@dataclass(frozen=True, slots=True)
class OwnerView:
    id: UUID
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class NoteView:
    """A note and its owner as read for a response: columns, not objects to track."""

    id: UUID
    owner_id: UUID
    owner: OwnerView
    title: str
    body: str
    created_at: datetime
    updated_at: datetime


# The note's columns and its owner's that a response shows, in one query.
NOTE_VIEW = (
    select(
        Note.owner_id,
        User.email,
        User.name,
        Note.title,
        Note.body,
        Note.created_at,
        Note.updated_at,
    )
    .join(Note.owner)
    .where(Note.id == bindparam("note_id"))
)


class NoteViews:
    """Notes as a response shows them, read outside any transaction (``direct_reads.py``)."""

    def __init__(self, reads: DirectReads) -> None:
        self.reads = reads

    async def get(self, note_id: UUID) -> NoteView | None:
        row = await self.reads.one(NOTE_VIEW, note_id=note_id)
        if row is None:
            return None
        owner_id, email, name, title, body, created_at, updated_at = row
        return NoteView(
            id=note_id,
            owner_id=owner_id,
            owner=OwnerView(id=owner_id, email=email, name=name),
            title=title,
            body=body,
            created_at=created_at,
            updated_at=updated_at,
        )


class NoteRepository(Repository[Note]):
    model = Note
    load_options = (joinedload(Note.owner),)

    @staticmethod
    def filters(
        *, owner_id: UUID | None = None, text: str | None = None
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if owner_id is not None:
            conditions.append(Note.owner_id == owner_id)
        if text is not None:
            # ``autoescape``: the text's own % and _ match themselves, not any characters.
            columns = (Note.title, Note.body)
            conditions.append(or_(*(column.icontains(text, autoescape=True) for column in columns)))
        return conditions


class AuditLogRepository(Repository[AuditLogEntry]):
    """Append-only in practice: the audit trail only ever creates entries."""

    model = AuditLogEntry

    @staticmethod
    def filters(
        *,
        entity_type: str | None = None,
        entity_id: str | None = None,
        request_id: str | None = None,
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if entity_type is not None:
            conditions.append(AuditLogEntry.entity_type == entity_type)
        if entity_id is not None:
            conditions.append(AuditLogEntry.entity_id == entity_id)
        if request_id is not None:
            conditions.append(AuditLogEntry.request_id == request_id)
        return conditions

    def _ordering(self) -> tuple[ColumnExpressionArgument[Any], ...]:
        return (AuditLogEntry.created_at.desc(), AuditLogEntry.id.desc())
{% if cookiecutter.llm != "none" %}


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


class LLMCallRepository(Repository[LLMCall]):
    """Append-only: the service writes one row per call, the usage report reads them."""

    model = LLMCall

    async def create_many(self, records: Sequence[LLMCall]) -> None:
        """Insert ``records`` together (one statement per batch of rows on most drivers)."""
        self.session.add_all(records)
        await self.session.flush()

    @staticmethod
    def filters(*, first: date, last: date, caller: str | None = None) -> list[ColumnElement[bool]]:
        """Calls of the days ``first`` to ``last`` included; of ``caller``'s only, if given."""
        conditions: list[ColumnElement[bool]] = [LLMCall.day.between(first, last)]
        if caller is not None:
            conditions.append(LLMCall.caller == caller)
        return conditions

    async def totals_by_day_and_model(self, *filters: ColumnElement[bool]) -> Sequence[RowMapping]:
        """One row per day and model: requests, errors, cache hits, tokens and cost."""
        statement = (
            select(
                LLMCall.day,
                LLMCall.model,
                func.count().label("requests"),
                _count_where(LLMCall.status == "error").label("errors"),
                _count_where(LLMCall.cached.is_(True)).label("cache_hits"),
                func.sum(LLMCall.input_tokens).label("input_tokens"),
                func.sum(LLMCall.output_tokens).label("output_tokens"),
                func.sum(LLMCall.cache_read_tokens).label("cache_read_tokens"),
                func.sum(LLMCall.cache_write_tokens).label("cache_write_tokens"),
                func.sum(LLMCall.cost).label("cost"),
            )
            .where(*filters)
            .group_by(LLMCall.day, LLMCall.model)
            .order_by(LLMCall.day, LLMCall.model.nulls_last())
        )
        return (await self.session.execute(statement)).mappings().all()


class ConversationRepository(Repository[Conversation]):
    model = Conversation

    @staticmethod
    def filters(*, owner_id: UUID | None = None) -> list[ColumnElement[bool]]:
        return [Conversation.owner_id == owner_id] if owner_id is not None else []


class ConversationMessageRepository(Repository[ConversationMessage]):
    model = ConversationMessage

    @staticmethod
    def filters(*, conversation_id: UUID) -> list[ColumnElement[bool]]:
        return [ConversationMessage.conversation_id == conversation_id]

    async def latest(self, conversation_id: UUID, *, limit: int) -> list[ConversationMessage]:
        """The conversation's last ``limit`` messages, oldest first."""
        statement = (
            select(ConversationMessage)
            .where(ConversationMessage.conversation_id == conversation_id)
            .order_by(ConversationMessage.position.desc())
            .limit(limit)
        )
        return list(reversed((await self.session.scalars(statement)).all()))

    async def next_position(self, conversation_id: UUID) -> int:
        statement = select(func.max(ConversationMessage.position)).where(
            ConversationMessage.conversation_id == conversation_id
        )
        last = await self.session.scalar(statement)
        return 0 if last is None else last + 1

    def _ordering(self) -> tuple[ColumnExpressionArgument[Any], ...]:
        return (ConversationMessage.position,)
{% endif %}
{% if jwt %}


class LoginSessionRepository(Repository[LoginSession]):
    model = LoginSession
    load_options = (joinedload(LoginSession.user),)

    async def rotate(self, login_id: UUID, *, current: UUID, replacement: UUID) -> bool:
        """Replace the login's refresh token ID if ``current`` is still it; False otherwise.

        One conditional UPDATE: of two requests presenting the same token, only one wins.
        """
        statement = (
            update(LoginSession)
            .where(
                LoginSession.id == login_id,
                LoginSession.refresh_jti == current,
                LoginSession.revoked_at.is_(None),
            )
            .values(refresh_jti=replacement)
            .returning(LoginSession.id)
        )
        return await self.session.scalar(statement) is not None

    async def revoke(self, *filters: ColumnElement[bool], at: datetime) -> int:
        """Revoke the live logins matching ``filters``; how many there were."""
        statement = (
            update(LoginSession)
            .where(LoginSession.revoked_at.is_(None), *filters)
            .values(revoked_at=at)
            .returning(LoginSession.id)
        )
        return len((await self.session.scalars(statement)).all())
{% if cookiecutter.oidc_signin == "yes" %}


class OidcIdentityRepository(Repository[OidcIdentity]):
    model = OidcIdentity
    load_options = (joinedload(OidcIdentity.user),)

    async def get_by_subject(self, provider: str, subject: str) -> OidcIdentity | None:
        statement = (
            select(OidcIdentity)
            .options(*self.load_options)
            .where(OidcIdentity.provider == provider, OidcIdentity.subject == subject)
        )
        return await self.session.scalar(statement)


class OidcLoginStateRepository:
    """Sign-ins begun at a provider: each is taken once, by its callback."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, state: OidcLoginState, *, now: datetime) -> None:
        """Store ``state``, dropping those whose time ran out (so the table stays small)."""
        await self.session.execute(delete(OidcLoginState).where(OidcLoginState.expires_at <= now))
        self.session.add(state)
        await self.session.flush()

    async def take(self, state_hash: str) -> OidcLoginState | None:
        """Remove the sign-in of ``state_hash`` and return it; None if it is not there.

        One DELETE ... RETURNING: of two callbacks with the same state, only one gets it.
        """
        statement = (
            delete(OidcLoginState)
            .where(OidcLoginState.state_hash == state_hash)
            .returning(OidcLoginState)
        )
        return (await self.session.scalars(statement)).one_or_none()
{% endif %}
{% endif %}
{% if api_keys %}


class ApiKeyRepository(Repository[ApiKey]):
    model = ApiKey
    load_options = (joinedload(ApiKey.owner),)

    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        statement = select(ApiKey).options(*self.load_options).where(ApiKey.prefix == prefix)
        return await self.session.scalar(statement)

    @staticmethod
    def filters(*, owner_id: UUID | None = None) -> list[ColumnElement[bool]]:
        return [ApiKey.owner_id == owner_id] if owner_id is not None else []
{% endif %}

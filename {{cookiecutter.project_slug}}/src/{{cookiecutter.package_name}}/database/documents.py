"""Data access for retrieval: documents, their chunks, and the chunks found for a query."""

{% if cookiecutter.redis == "yes" %}
from collections.abc import Mapping, Sequence
{% else %}
from collections.abc import Sequence
{% endif %}
from uuid import UUID

{% if cookiecutter.redis == "yes" %}
from sqlalchemy import delete, select, update
{% else %}
from sqlalchemy import delete, select
{% endif %}
from sqlalchemy.orm import joinedload

from {{ cookiecutter.package_name }}.database.models import Chunk, Document
from {{ cookiecutter.package_name }}.database.repository import Repository


class DocumentRepository(Repository[Document]):
    model = Document

    async def find(self, collection: str, owner_id: UUID | None, title: str) -> Document | None:
        """The document of that title in the collection, of that owner (None: no owner)."""
        owner = Document.owner_id.is_(None) if owner_id is None else Document.owner_id == owner_id
        statement = select(Document).where(
            Document.collection == collection, owner, Document.title == title
        )
        return await self.session.scalar(statement.limit(1))

{% if cookiecutter.redis == "yes" %}
    async def settle(
        self, document_id: UUID, content_hash: str, changes: Mapping[str, object]
    ) -> Document | None:
        """Apply ``changes`` to the document if its text is still ``content_hash``'s, in
        one statement (another ingestion may have replaced it meanwhile); the document,
        or None when it changed or is gone.
        """
        statement = (
            update(Document)
            .where(Document.id == document_id, Document.content_hash == content_hash)
            .values(changes)
            .returning(Document)
            .execution_options(synchronize_session=False)
        )
        return await self.session.scalar(statement)

{% endif %}
    async def replace_chunks(self, document: Document, chunks: Sequence[Chunk]) -> list[Chunk]:
        """Delete the document's chunks (their index entries go with them), add these."""
        await self.session.execute(delete(Chunk).where(Chunk.document_id == document.id))
        self.session.add_all(chunks)
        await self.session.flush()
        return list(chunks)

    async def chunks(self, chunk_ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks of these ids, with their documents."""
        statement = select(Chunk).options(joinedload(Chunk.document)).where(Chunk.id.in_(chunk_ids))
        return {chunk.id: chunk for chunk in await self.session.scalars(statement)}

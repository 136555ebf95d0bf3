{% set db = cookiecutter.database != "none" %}
{% set rag = cookiecutter.rag == "yes" %}
"""The tools this service offers the model. Add yours here: an argument model, an
async function, and a ``Tool`` that names them.
"""

from datetime import UTC, datetime, timedelta, timezone

from pydantic import BaseModel, Field

{% if cookiecutter.auth != "none" and db %}
from {{ cookiecutter.package_name }}.core.authorization import Scope
{% endif %}
{% if rag %}
from {{ cookiecutter.package_name }}.models.rag import Collection, SearchRequest
{% endif %}
{% if db %}
from {{ cookiecutter.package_name }}.models.requests import NoteQuery
{% endif %}
from {{ cookiecutter.package_name }}.services.llm.tools import Tool, ToolContext, ToolRegistry


class CurrentTimeArguments(BaseModel):
    utc_offset_minutes: int = Field(
        default=0, ge=-720, le=840, description="The time zone's offset from UTC, in minutes."
    )


async def current_time(arguments: CurrentTimeArguments, context: ToolContext) -> str:
    zone = timezone(timedelta(minutes=arguments.utc_offset_minutes))
    return datetime.now(UTC).astimezone(zone).isoformat(timespec="seconds")
{% if db %}


class SearchNotesArguments(BaseModel):
    text: str = Field(min_length=1, max_length=200, description="Words the note contains.")
    limit: int = Field(default=5, ge=1, le=20)


async def search_notes(arguments: SearchNotesArguments, context: ToolContext) -> str:
    """The caller's own notes that contain the text (an admin's search covers everyone's)."""
    async with context.notes() as notes:
        found, _ = await notes.get_page(NoteQuery(text=arguments.text, limit=arguments.limit))
        if not found:
            return "No note contains that text."
        return "\n\n".join(f"# {note.title} (note {note.id})\n{note.body}" for note in found)
{% endif %}
{% if rag %}


class SearchDocumentsArguments(BaseModel):
    query: str = Field(
        min_length=1, max_length=500, description="A question, or words the passages contain."
    )
    collection: Collection
    top_k: int = Field(default=5, ge=1, le=10, description="How many passages to return.")


async def search_documents(arguments: SearchDocumentsArguments, context: ToolContext) -> str:
    """The passages nearest the query in the documents the caller may search, by meaning
    and by words: the hybrid search of ``POST /api/v1/search``.
    """
    request = SearchRequest(
        query=arguments.query, collection=arguments.collection, top_k=arguments.top_k
    )
    hits = await context.documents(request)
    if not hits:
        return "No document matches."
    return "\n\n".join(
        f"# {hit.document_title}"
        + (f" / {hit.heading}" if hit.heading else "")
        + f" (position {hit.position}, score {hit.score})\n{hit.text}"
        for hit in hits
    )
{% endif %}


def service_tools() -> ToolRegistry:
    return ToolRegistry(
        [
            Tool(
                name="current_time",
                description="The current date and time, in a time zone given by its UTC offset.",
                arguments=CurrentTimeArguments,
                run=current_time,
            ),
{% if db %}
            Tool(
                name="search_notes",
                description="Search the user's notes for a text; returns their titles and bodies.",
                arguments=SearchNotesArguments,
                run=search_notes,
{% if cookiecutter.auth != "none" %}
                scope=Scope.NOTES_READ,
{% endif %}
            ),
{% endif %}
{% if rag %}
            Tool(
                name="search_documents",
                description="Search the documents by meaning and by words; returns the best "
                "passages with their document's title, position, heading and score.",
                arguments=SearchDocumentsArguments,
                run=search_documents,
{% if cookiecutter.auth != "none" %}
                scope=Scope.LLM,
{% endif %}
            ),
{% endif %}
        ]
    )

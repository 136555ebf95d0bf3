"""A document's text, and its chunks: CPU work, run in a worker thread by the callers.

Text comes from plain text and Markdown as sent, from HTML without its tags, scripts
and styles (the standard library's parser), from PDF page by page (pypdf). Chunks are
at most ``RAG_CHUNK_TOKENS`` tokens (counted with a bundled tiktoken vocabulary, no
download), overlap by ``RAG_CHUNK_OVERLAP``, and break at Markdown's structure first:
headings, then paragraphs, sentences, words. Each chunk knows the heading it is under.
"""

import bisect
import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from semantic_text_splitter import MarkdownSplitter

from {{ cookiecutter.package_name }}.core.errors import BadRequestError
from {{ cookiecutter.package_name }}.models.rag import MediaType
from {{ cookiecutter.package_name }}.services.llm.quota import tokens_in

# A Markdown heading line: one to six #, a space, its text (linear time).
HEADING = re.compile(r"^#{1,6}[ \t]+(\S[^\n]*)$", re.MULTILINE)
# Heading lines and blank lines at the start of a chunk (anchored, linear time).
LEADING_HEADINGS = re.compile(r"(?:[ \t]*\n|#{1,6}[ \t][^\n]*(?:\n|$))*")
# Tokens are counted as OpenAI's current models count them.
TOKENIZER_MODEL = "gpt-4o"
SKIPPED_HTML = frozenset({"script", "style", "head", "template", "noscript"})
BLOCK_HTML = frozenset({"p", "div", "br", "li", "tr", "section", "article", "pre", "table"})
MAX_HEADING_CHARS = 500


@dataclass(frozen=True, slots=True)
class ChunkText:
    position: int
    text: str
    token_count: int
    heading: str | None


class _HtmlText(HTMLParser):
    """The text of an HTML page, its headings as Markdown ones, so chunks follow them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_HTML:
            self._skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in BLOCK_HTML:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_HTML:
            self._skipping = max(0, self._skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _pdf_text(content: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(content))
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        msg = "The document is not a PDF that can be read."
        raise BadRequestError(msg) from exc
    # A PDF's text can hold NUL characters, which PostgreSQL cannot store.
    return text.replace("\x00", "")


def extract_text(content: bytes, media_type: MediaType) -> str:
    """The text of a document; 400 when it cannot be read as its media type says."""
    if media_type is MediaType.PDF:
        text = _pdf_text(content)
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = "The document is not UTF-8 text."
            raise BadRequestError(msg) from exc
        if media_type is MediaType.HTML:
            parser = _HtmlText()
            parser.feed(text)
            parser.close()
            text = "".join(parser.parts)
    text = re.sub(r"\n{3,}", "\n\n", text.replace("\r\n", "\n")).strip()
    if not text:
        msg = "The document has no text."
        raise BadRequestError(msg)
    return text


class Chunker:
    """Splits texts into chunks; building one loads the tokenizer (a third of a second)."""

    def __init__(self, max_tokens: int, overlap: int) -> None:
        self._splitter = MarkdownSplitter.from_tiktoken_model(
            TOKENIZER_MODEL, max_tokens, overlap=overlap
        )
        self._max_tokens = max_tokens

    def chunks(self, text: str) -> list[ChunkText]:
        headings = [(match.start(), match.group(1).strip()) for match in HEADING.finditer(text)]
        starts = [start for start, _ in headings]
        chunks = []
        for position, (offset, chunk) in enumerate(self._splitter.chunk_indices(text)):
            # The heading the chunk's first text is under: the last one before it.
            leading = LEADING_HEADINGS.match(chunk)
            body = offset + (leading.end() if leading else 0)
            index = bisect.bisect_left(starts, body) - 1
            heading = headings[index][1][:MAX_HEADING_CHARS] if index >= 0 else None
            # The splitter counts tokens but does not tell: the LLM module's estimate.
            tokens = min(self._max_tokens, tokens_in(chunk))
            chunks.append(ChunkText(position, chunk, tokens, heading))
        return chunks

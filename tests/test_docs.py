"""A baked project's docs/ describe the modules it has, and only those.

Cheap: these tests only bake (no ``uv sync``), and only read: one bake per answer set
serves every test that asks for it (``baked_once``). The generated project's own tests
check that the generated parts of its docs (settings, ER diagram, list of operations)
match its code; they run in every run-tier bake of ``test_bake.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import BakeOnce, answers_for

COMBINATIONS = [
    {
        "auth": "jwt_and_api_key",
        "database": "postgresql",
        "llm": "anthropic_and_openai",
        "redis": "yes",
        "observability": "yes",
        "rag": "yes",
    },
    {"auth": "api_key", "llm": "openai"},
    {"auth": "none", "database": "none", "llm": "none"},
    {"auth": "jwt", "database": "sqlite", "llm": "none", "oidc_signin": "yes"},
    {"auth": "none", "database": "none", "llm": "anthropic", "redis": "yes"},
]

# Words that must not appear in the docs of a bake without the module (case-sensitive).
ABSENT_WITHOUT: list[tuple[str, str, tuple[str, ...]]] = [
    ("redis", "no", ("Redis", "arq")),
    ("observability", "no", ("Prometheus", "OpenTelemetry", "/metrics", "tracing", "trace_id")),
    ("llm", "none", ("LLM", "Anthropic", "OpenAI", "llm")),
    ("llm", "openai", ("Anthropic", "claude")),
    ("llm", "anthropic", ("OpenAI", "gpt-")),
    ("database", "none", ("SQLite", "PostgreSQL", "SQLAlchemy", "Alembic", "database.md")),
    ("auth", "none", ("X-API-Key", "/api-keys", "JWT", "Bearer", "scope", "401", "security.md")),
    ("auth", "jwt", ("X-API-Key", "/api-keys", "API keys")),
    ("auth", "api_key", ("JWT", "Bearer", "password", "refresh token")),
    ("oidc_signin", "no", ("OpenID", "OIDC", "/auth/oidc")),
    ("rag", "no", ("/api/v1/documents", "rag.md", "EMBEDDING_", "sqlite-vec", "pgvector")),
]

# The settings table quotes the code's own descriptions (a cache URL may name a Redis
# server whatever the answers); the prose around it is checked.
SETTINGS_TABLE = re.compile(r"<!-- settings:start -->.*<!-- settings:end -->", re.DOTALL)
MERMAID = re.compile(r"^```mermaid\n(.*?)^```$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)#]+)\)")
WORD = r"[A-Za-z_]\w*"
# Node shapes: ["quoted label"], [(database)], ([rounded]), [plain label].
FLOW_SHAPES = (r'\["[^"\[\]]+"\]', r"\[\([^()\[\]]+\)\]", r"\(\[[^()\[\]]+\]\)", r'\[[^"\[\]()]+\]')
FLOW_NODE = rf"{WORD}(?:{'|'.join(FLOW_SHAPES)})?"
FLOW_EDGE = re.compile(rf"^    {FLOW_NODE}(?: (?:-->|-\.->) {FLOW_NODE})+$")
SEQ_PARTICIPANT = re.compile(rf"^    participant ({WORD})(?: as [^:;]+)?$")
SEQ_MESSAGE = re.compile(rf"^    ({WORD})(?:->>|-->>|->|-->|-x|--x)({WORD}): [^;]+$")
SEQ_BLOCK_START = re.compile(r"^    (?:loop|opt|alt|par|critical|break) [^;]+$")
SEQ_BLOCK_ELSE = re.compile(r"^    (?:else|and|option) [^;]+$")
ER_ENTITY = re.compile(rf"^    ({WORD}) \{{$")
ER_ATTRIBUTE = re.compile(
    rf'^        {WORD} {WORD}(?: (?:PK|FK|UK)(?:, (?:PK|FK|UK))*)?(?: "[^"]*")?$'
)
ER_RELATION = re.compile(
    rf'^    ({WORD}) (?:\|\||\|o|o\||\}}o|\}}\|)--(?:\|\||o\||\|o|o\{{|\|\{{) ({WORD}) : "[^"]+"$'
)


def _flowchart(lines: list[str]) -> None:
    for line in lines:
        assert FLOW_EDGE.match(line), f"not a flowchart edge: {line!r}"


def _sequence(lines: list[str]) -> None:
    participants: set[str] = set()
    depth = 0  # inside a loop, opt or alt block, lines are indented by 4 more
    for raw in lines:
        line = raw.removeprefix("    " * depth)
        assert depth == 0 or raw.startswith("    " * depth), f"not indented: {raw!r}"
        if declared := SEQ_PARTICIPANT.match(line):
            participants.add(declared.group(1))
            continue
        if SEQ_BLOCK_START.match(line):
            depth += 1
            continue
        if depth and (SEQ_BLOCK_ELSE.match(f"    {raw.strip()}") or raw.strip() == "end"):
            depth -= raw.strip() == "end"
            continue
        message = SEQ_MESSAGE.match(line)
        assert message, f"not a sequence diagram line: {line!r}"
        unknown = {message.group(1), message.group(2)} - participants
        assert not unknown, f"undeclared participants {unknown} in {line!r}"
    assert depth == 0, "a block without its end"


def _er(lines: list[str]) -> None:
    entities: set[str] = set()
    relations: list[tuple[str, str]] = []
    inside = None
    for line in lines:
        if inside:
            if line == "    }":
                inside = None
            else:
                assert ER_ATTRIBUTE.match(line), f"not an attribute of {inside}: {line!r}"
        elif entity := ER_ENTITY.match(line):
            inside = entity.group(1)
            assert inside not in entities, f"{inside} defined twice"
            entities.add(inside)
        else:
            relation = ER_RELATION.match(line)
            assert relation, f"not an ER diagram line: {line!r}"
            relations.append((relation.group(1), relation.group(2)))
    assert inside is None, f"{inside} is not closed"
    assert entities, "no entities"
    for parent, child in relations:
        assert {parent, child} <= entities, f"relation between unknown {parent} and {child}"


DIAGRAMS = {"flowchart LR": _flowchart, "sequenceDiagram": _sequence, "erDiagram": _er}


def check_mermaid(block: str) -> None:
    """A small, strict validator of the subset of Mermaid the docs use."""
    first, *lines = block.rstrip("\n").split("\n")
    assert first in DIAGRAMS, f"unknown diagram type {first!r}"
    assert lines, f"empty {first}"
    DIAGRAMS[first](lines)


@pytest.mark.parametrize(
    "block",
    [
        'flowchart LR\n    a --> b["x\n',
        "flowchart LR\n    a --> b\n    c\n",
        "sequenceDiagram\n    participant A\n    A->>B: hello\n",
        "sequenceDiagram\n    participant A\n    A->>A: one; two\n",
        "erDiagram\n    users {\n        uuid id PK\n",
        'erDiagram\n    users {\n    }\n    users ||--o{ notes : "owner_id"\n',
        "erDiagram\n    users {\n        uuid id PK FK\n    }\n",
        'pie\n    "a" : 1\n',
    ],
)
def test_the_mermaid_validator_refuses_broken_diagrams(block: str) -> None:
    with pytest.raises(AssertionError):
        check_mermaid(block)


def _docs(project: Path) -> dict[str, str]:
    files = [*sorted((project / "docs").rglob("*.md")), project / "README.md"]
    return {str(path.relative_to(project)): path.read_text() for path in files}


@pytest.mark.parametrize("overrides", COMBINATIONS, ids=lambda o: "-".join(o.values()))
def test_docs_describe_exactly_the_enabled_modules(
    baked_once: BakeOnce, overrides: dict[str, str]
) -> None:
    answers = answers_for(**overrides)
    project = baked_once(**overrides)
    docs = _docs(project)

    expected = {
        "docs/README.md": True,
        "docs/architecture.md": True,
        "docs/api.md": True,
        "docs/configuration.md": True,
        "docs/operations.md": True,
        "docs/database.md": answers["database"] != "none",
        "docs/security.md": answers["auth"] != "none",
        "docs/decisions/0001-async-sqlalchemy.md": answers["database"] != "none",
        "docs/decisions/0002-jwt-and-api-keys.md": answers["auth"] != "none",
        "docs/decisions/0003-llm-provider-abstraction.md": answers["llm"] != "none",
        "docs/decisions/0004-pure-asgi-middleware.md": True,
        "docs/rag.md": answers["rag"] == "yes",
    }
    assert {name for name, present in expected.items() if present} == set(docs) - {"README.md"}

    for option, value, words in ABSENT_WITHOUT:
        if answers[option] != value:
            continue
        for name, text in docs.items():
            if name == "README.md":
                continue  # its table of options names every module, enabled or not
            prose = SETTINGS_TABLE.sub("", text)
            found = [word for word in words if word in prose]
            assert not found, f"{name} mentions {found} with {option}={value}"

    for name, text in docs.items():
        for target in LINK.findall(text):
            if "://" not in target:
                assert (project / name).parent.joinpath(target).exists(), f"{name}: {target}"
        for block in MERMAID.findall(text):
            check_mermaid(block)

    assert "docs/README.md" in docs["README.md"]

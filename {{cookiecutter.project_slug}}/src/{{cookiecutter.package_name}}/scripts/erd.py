"""Print the Mermaid ER diagram of the tables, or write it into ``docs/database.md``.

    uv run python -m {{ cookiecutter.package_name }}.scripts.erd           # print it
    uv run python -m {{ cookiecutter.package_name }}.scripts.erd --write   # refresh the docs

It reads the SQLAlchemy metadata of ``database/models.py``: run it after changing a model.
"""

import enum
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    MetaData,
    String,
    Text,
    Uuid,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from {{ cookiecutter.package_name }}.database.models import Base
from {{ cookiecutter.package_name }}.scripts import DOCS, print_or_write

DOCUMENT = DOCS / "database.md"
MARKER = "erd"
# The first match names the column's type (Enum and Text are kinds of String).
TYPE_NAMES: list[tuple[type[TypeEngine[Any]], str]] = [
    (Uuid, "uuid"),
    (Enum, "string"),
    (Text, "text"),
    (String, "string"),
    (Boolean, "boolean"),
    (Integer, "integer"),
    (Float, "float"),
    (DateTime, "datetime"),
    (Date, "date"),
    (JSON, "json"),
]


def _type_name(column: Column[Any]) -> str:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    for sql_type, name in TYPE_NAMES:
        if isinstance(column_type, sql_type):
            return name
    return type(column_type).__name__.lower()


def _attribute(column: Column[Any]) -> str:
    keys = []
    if column.primary_key:
        keys.append("PK")
    if column.foreign_keys:
        keys.append("FK")
    if column.unique:
        keys.append("UK")
    notes = []
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        values: list[enum.Enum] = list(column.type.enum_class)
        notes.append("one of " + ", ".join(str(member.value) for member in values))
    if column.nullable and not column.primary_key:
        notes.append("nullable")
    line = f"{_type_name(column)} {column.name}"
    if keys:
        line += " " + ", ".join(keys)
    if notes:
        line += f' "{"; ".join(notes)}"'
    return line


def erd(metadata: MetaData = Base.metadata) -> str:
    """The Mermaid block: tables by name, columns in table order, then the foreign keys."""
    lines = ["```mermaid", "erDiagram"]
    relations = []
    for table in sorted(metadata.tables.values(), key=lambda table: table.name):
        lines.append(f"    {table.name} " + "{")
        lines.extend(f"        {_attribute(column)}" for column in table.columns)
        lines.append("    }")
        for column in table.columns:
            for key in column.foreign_keys:
                parent = key.column.table.name
                one = "|o" if column.nullable else "||"
                many = "o|" if column.unique else "o{"
                relations.append(f'    {parent} {one}--{many} {table.name} : "{column.name}"')
    lines.extend(sorted(relations))
    lines.append("```")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    return print_or_write(
        argv, "Print or write the ER diagram of the tables.", erd, DOCUMENT, MARKER
    )


if __name__ == "__main__":
    sys.exit(main())

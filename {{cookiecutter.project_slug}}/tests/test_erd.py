"""The ER diagram in ``docs/database.md`` matches the tables."""

from {{ cookiecutter.package_name }}.database.models import Base
from {{ cookiecutter.package_name }}.scripts import DOCS, generated_part
from {{ cookiecutter.package_name }}.scripts.erd import erd


def test_database_docs_show_the_current_tables() -> None:
    assert generated_part(DOCS / "database.md", "erd") == erd(), (
        f"docs/database.md is stale: run `uv run python -m {erd.__module__} --write`"
    )


def test_diagram_has_every_table_and_foreign_key() -> None:
    lines = erd().splitlines()
    relations = [line.strip() for line in lines if "--" in line]

    for table in Base.metadata.tables.values():
        assert f"    {table.name} " + "{" in lines
        for key in table.foreign_keys:
            assert any(
                relation.startswith(f"{key.column.table.name} ")
                and relation.endswith(f' {table.name} : "{key.parent.name}"')
                for relation in relations
            ), f"no relation for {table.name}.{key.parent.name}"

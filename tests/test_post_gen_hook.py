"""The post-generation hook: module switching, .env, recorded answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hooks.post_gen_project import (
    module_enabled,
    paths_to_remove,
    prune_empty_dirs,
    record_answers,
    write_env_file,
)
from template_tools.answers import template_source, write_records
from tests.conftest import MANIFEST, TEMPLATE_ROOT, answers_for

MANIFEST_EXAMPLE: dict[str, Any] = {
    "modules": {
        "db": {
            "enabled_when": {"database": ["sqlite", "postgresql"]},
            "paths": ["src/{package}/db"],
        },
        "pg": {"enabled_when": {"database": ["postgresql"]}, "paths": ["pg.conf"]},
        "llm": {"enabled_when": {"llm": ["openai"]}, "paths": ["shared.py", "llm.py"]},
        "auth": {"enabled_when": {"auth": ["jwt"]}, "paths": ["shared.py"]},
    }
}


def test_module_is_enabled_when_every_condition_holds() -> None:
    assert module_enabled(
        {"database": ["sqlite"], "llm": ["openai"]}, answers_for(database="sqlite", llm="openai")
    )
    assert not module_enabled(
        {"database": ["sqlite"], "llm": ["openai"]}, answers_for(database="sqlite", llm="none")
    )


def test_paths_of_disabled_modules_are_removed_with_the_package_filled_in() -> None:
    answers = {"database": "sqlite", "llm": "none", "auth": "none", "package_name": "svc"}

    assert paths_to_remove(MANIFEST_EXAMPLE, answers) == ["llm.py", "pg.conf", "shared.py"]


def test_a_path_shared_by_two_modules_stays_while_either_is_enabled() -> None:
    answers = {"database": "none", "llm": "none", "auth": "jwt", "package_name": "svc"}

    removed = paths_to_remove(MANIFEST_EXAMPLE, answers)

    assert "shared.py" not in removed
    assert "src/svc/db" in removed


def test_empty_folders_are_pruned_bottom_up(tmp_path: Path) -> None:
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "file.txt").write_text("x\n")

    prune_empty_dirs(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]


def test_env_file_gets_a_fresh_secret_key(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("DEBUG=false\nSECRET_KEY=change-me\nPORT=1\n")

    write_env_file(tmp_path)
    first = (tmp_path / ".env").read_text()
    write_env_file(tmp_path)
    second = (tmp_path / ".env").read_text()

    [secret] = [line for line in first.splitlines() if line.startswith("SECRET_KEY=")]
    assert len(secret.removeprefix("SECRET_KEY=")) >= 48
    assert first != second
    assert first.startswith("DEBUG=false\n")
    assert first.endswith("PORT=1\n")


def test_recorded_answers_hold_no_private_keys_or_absolute_paths(tmp_path: Path) -> None:
    answers = {**answers_for(), "_template": str(TEMPLATE_ROOT), "_output_dir": "/tmp/x"}

    record_answers(tmp_path, answers, TEMPLATE_ROOT)

    record = json.loads((tmp_path / ".template-answers.json").read_text())
    assert record["answers"] == answers_for()
    assert record["template"] == TEMPLATE_ROOT.name
    assert str(TEMPLATE_ROOT) not in json.dumps(record)
    assert str(TEMPLATE_ROOT) not in (tmp_path / ".cruft.json").read_text()


def test_records_name_the_template_commit_for_regenerate_and_for_cruft(tmp_path: Path) -> None:
    write_records(tmp_path, "gh:acme/service-template", "0123abc", answers_for(llm="openai"))

    record = json.loads((tmp_path / ".template-answers.json").read_text())
    cruft = json.loads((tmp_path / ".cruft.json").read_text())
    assert record == {
        "template": "gh:acme/service-template",
        "commit": "0123abc",
        "answers": answers_for(llm="openai"),
    }
    assert cruft["template"] == "gh:acme/service-template"
    assert cruft["commit"] == "0123abc"
    assert cruft["context"]["cookiecutter"] == {
        **answers_for(llm="openai"),
        "_template": "gh:acme/service-template",
        "_commit": "0123abc",
    }
    assert cruft["skip"] == [".env"]


@pytest.mark.parametrize(
    ("source", "recorded"),
    [
        ("gh:acme/service-template", "gh:acme/service-template"),
        ("https://example.com/t.git", "https://example.com/t.git"),
        ("../service-template", "../service-template"),
        ("/home/me/service-template", "service-template"),
    ],
)
def test_template_source_drops_this_machines_absolute_path(source: str, recorded: str) -> None:
    assert template_source({"_template": source}) == recorded


def test_the_manifest_names_only_real_options_and_values() -> None:
    choices = {
        k: v
        for k, v in json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text()).items()
        if isinstance(v, list)
    }
    for name, module in MANIFEST["modules"].items():
        assert module["paths"], f"module {name} owns no paths"
        for option, values in module["enabled_when"].items():
            assert option in choices, f"module {name}: no option {option}"
            assert set(values) <= set(choices[option]), f"module {name}: bad values {values}"

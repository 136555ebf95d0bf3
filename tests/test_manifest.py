"""The manifest and the template agree: every listed path exists, every optional path is listed."""

from __future__ import annotations

from tests.conftest import MANIFEST, TEMPLATE_DIR

PACKAGE = "{{cookiecutter.package_name}}"


def manifest_paths() -> set[str]:
    return {
        path.format(package=PACKAGE)
        for module in MANIFEST["modules"].values()
        for path in module["paths"]
    }


def test_every_manifest_path_exists_in_the_template() -> None:
    missing = sorted(path for path in manifest_paths() if not (TEMPLATE_DIR / path).exists())

    assert missing == []


def test_no_template_file_is_a_condition_around_its_whole_content() -> None:
    """A file that only some answers want belongs in the manifest, not in an ``{% if %}``."""
    wrapped = []
    for path in sorted(TEMPLATE_DIR.rglob("*")):
        if not path.is_file():
            continue
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        body = [line for line in lines if not line.startswith("{% set ")]
        if body and body[0].startswith("{% if ") and body[-1] == "{% endif %}":
            depth = 0
            for line in body[:-1]:
                depth += line.startswith("{% if ") - line.startswith("{% endif %}")
                if depth == 0:
                    break
            else:
                wrapped.append(str(path.relative_to(TEMPLATE_DIR)))

    assert wrapped == []

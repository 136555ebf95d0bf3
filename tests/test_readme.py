"""The README's commands are the ones CI and users actually run."""

from tests.conftest import TEMPLATE_ROOT


def readme_test_command() -> str:
    readme = (TEMPLATE_ROOT / "README.md").read_text()
    section = readme.split("## Run the template's tests", 1)[1]
    return section.split("```bash\n", 1)[1].split("\n", 1)[0].strip()


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = (TEMPLATE_ROOT / ".ci" / "run").read_text().splitlines()

    assert readme_test_command() in ci_lines

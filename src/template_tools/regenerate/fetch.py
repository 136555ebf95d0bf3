"""The template to bake: found as the generator finds it, and its files at a commit."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from cookiecutter.config import BUILTIN_ABBREVIATIONS
from cookiecutter.exceptions import CookiecutterException
from cookiecutter.repository import determine_repo_dir

from template_tools.regenerate.report import Refused

DISTRIBUTION = "fastapi-ai-service-template"
# src/template_tools/regenerate/fetch.py in a checkout of the template.
CHECKOUT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Template:
    """Template files ready to bake, and the git repository that holds their history."""

    path: Path
    commit: str | None
    repo: Path | None


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def commit_of(repo: Path, ref: str) -> str | None:
    result = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=repo)
    return result.stdout.strip() if result.returncode == 0 else None


def export(repo: Path, commit: str, destination: Path) -> Path:
    """The template's files at ``commit``, taken from its git history."""
    prefix = git("rev-parse", "--show-prefix", cwd=repo).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", f"{commit}:{prefix}"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise Refused(f"cannot read template commit {commit} in {repo}: {archive.stderr!r}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    return destination


def own_template() -> str | None:
    """Where this command comes from, as a template source.

    The checkout it runs from (``uv run --project <template>``), or the git URL and
    commit it was installed from (``uvx --from git+<url>``); None when neither.
    """
    if (CHECKOUT / "cookiecutter.json").is_file():
        return str(CHECKOUT)
    try:
        origin = json.loads(
            metadata.distribution(DISTRIBUTION).read_text("direct_url.json") or "{}"
        )
    except metadata.PackageNotFoundError:
        return None
    vcs = origin.get("vcs_info", {})
    if vcs.get("vcs") != "git":
        return None
    return f"git+{origin['url']}@{vcs['commit_id']}"


def split_ref(source: str) -> tuple[str, str | None]:
    """``gh:acme/template@v2`` -> (``gh:acme/template``, ``v2``); no ref -> None."""
    if "@" in source.rpartition("/")[2] and not Path(source).exists():
        location, _, ref = source.rpartition("@")
        return location, ref
    return source, None


def fetch_template(source: str, workdir: Path) -> Template:
    """A local path, git URL or abbreviation (``gh:owner/repo``), found as the generator does.

    ``<url>@<ref>`` selects a branch, tag or commit (also of a local git checkout).
    """
    location, checkout = split_ref(source)
    clones = workdir / "clones"
    try:
        found, _ = determine_repo_dir(
            template=location,
            abbreviations=BUILTIN_ABBREVIATIONS,
            clone_to_dir=clones,
            checkout=checkout,
            no_input=True,
        )
    except (CookiecutterException, subprocess.CalledProcessError) as error:
        raise Refused(f"cannot get the template {source}: {error}") from error
    path = Path(found).resolve()
    if git("rev-parse", "--is-inside-work-tree", cwd=path).returncode != 0:
        if checkout:
            raise Refused(f"{location} is not a git repository: it has no {checkout}")
        return Template(path, None, None)
    commit = commit_of(path, checkout or "HEAD")
    if commit is None:
        raise Refused(f"the template {location} has no commit {checkout}")
    if checkout and not path.is_relative_to(clones):  # a local checkout: leave it as it is
        return Template(export(path, commit, workdir / "template-checkout"), commit, path)
    return Template(path, commit, path)


def template_at(template: Template, commit: str, workdir: Path) -> Path:
    """The template's files at ``commit``, the version the project was generated from."""
    if template.repo is None:
        raise Refused(
            f"the project was generated from template commit {commit}, but {template.path} "
            "has no git history to take it from: pass --template with a git checkout or "
            "URL of the template"
        )
    if commit_of(template.repo, commit) is None:
        raise Refused(
            f"the project was generated from template commit {commit}, which "
            f"{template.repo} does not have: fetch it, or pass --template with a clone "
            "that has it"
        )
    return export(template.repo, commit, workdir / "template-base")

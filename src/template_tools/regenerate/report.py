"""What a regeneration tells its user: the report of what it did, or why it refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from template_tools.regenerate.line_merge import MERGE_LABELS


class Refused(Exception):
    """Regeneration cannot go ahead; the project has not been changed."""


@dataclass
class Report:
    answer_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    commits: tuple[str | None, str | None] = (None, None)
    changes: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"answers: {k} {old} -> {new}" for k, (old, new) in self.answer_changes.items()]
        old_commit, new_commit = (commit[:12] if commit else "unknown" for commit in self.commits)
        if old_commit != new_commit:
            lines.append(f"template: {old_commit} -> {new_commit}")
        lines += [f"  {action:<9} {name}" for action, name in self.changes]
        if not self.changes:
            lines.append("No file changes: the project already has what the template brings.")
        lines += [f"warning: {warning}" for warning in self.warnings]
        if self.conflicts:
            lines.append(
                f"{len(self.conflicts)} file(s) with conflicts, marked between "
                f"'<<<<<<< {MERGE_LABELS[0]}' and '>>>>>>> {MERGE_LABELS[2]}':"
            )
            lines += [f"  {name}" for name in self.conflicts]
            lines.append("Resolve them, then run `uv sync` and the tests.")
        elif self.changes:
            lines.append("Review with `git diff`, then run `uv sync` and the tests.")
        return "\n".join(lines)

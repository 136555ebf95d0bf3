"""Change the answers of a generated project, or pull in template updates, keeping its edits.

A generated project records its answers and the template commit it was made from
(``.template-answers.json``). ``regenerate`` bakes those answers at that commit (the
base) and the new answers at the current template (theirs) into a temporary folder,
then merges the difference into the project file by file with ``git merge-file``:
files the template adds appear, files it drops go unless the user changed them
(then they stay, with a warning), and shared files get the template's change merged
with the user's edits (what git marks only because the changes touch is merged
again, line by line). The migrations a module brings are chained after the project's
own head first. Conflicts stay as inline markers, are listed at the end, and make
the exit status 1. Needs git on the PATH, but no git history of the project.

One module per step: ``fetch`` (the template at a commit), ``answer_changes`` (the
answers to bake), ``migrations`` (the new revisions after the project's head),
``file_merge`` and ``line_merge`` (the template's change, file by file, line by line),
``env_merge`` (``.env``), ``run`` (the steps in order) and ``cli`` (the command).
"""

from template_tools.regenerate.cli import main

__all__ = ["main"]

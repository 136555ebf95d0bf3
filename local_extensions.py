"""Jinja extension loaded by the template (see ``_extensions`` in the answers file).

The hooks need files that live beside them in ``hooks/`` (the module manifest), but
they run from a rendered copy in a temporary folder with the generated project as
the working directory, and the template path they are given may be relative. This
module is imported from the template root while the invoking working directory is
still current, so its own location is the one reliable absolute path to the template.
"""

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

TEMPLATE_ROOT = Path(__file__).resolve().parent


class TemplateRootExtension(Extension):
    """Expose ``template_root``: the template repository's absolute path."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["template_root"] = str(TEMPLATE_ROOT)

"""{{ cookiecutter.project_name }}."""

from importlib.metadata import metadata

_metadata = metadata("{{ cookiecutter.project_slug }}")

__version__ = _metadata["Version"]
__description__ = _metadata["Summary"]

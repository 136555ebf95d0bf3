"""Maintenance commands: ``uv run python -m {{ cookiecutter.package_name }}.scripts.<name>``."""

"""The app ``fastapi dev`` and ``fastapi run`` serve (``[tool.fastapi]`` in pyproject.toml).

It is built when this module is imported, with the settings of the environment and
``.env``; nothing else imports it. ``uv run {{ cookiecutter.project_slug }}`` serves the
same app, built by ``main.create_app`` in each worker process.
"""

from {{ cookiecutter.package_name }}.main import create_app

app = create_app()

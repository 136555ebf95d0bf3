"""Serve the application: ``uv run {{ cookiecutter.project_slug }}``."""

import uvicorn

from {{ cookiecutter.package_name }}.core.config import Settings
{% if cookiecutter.observability == "yes" %}
from {{ cookiecutter.package_name }}.core.metrics import share_metrics_across_workers
{% endif %}


def main() -> None:
    settings = Settings()
{% if cookiecutter.observability == "yes" %}
    share_metrics_across_workers(settings.workers)
{% endif %}
    uvicorn.run(
        "{{ cookiecutter.package_name }}.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.graceful_shutdown_timeout,
    )


if __name__ == "__main__":
    main()

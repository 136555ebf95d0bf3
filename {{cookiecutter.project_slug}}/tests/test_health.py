from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve


async def test_live_answers_ok(client: AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_every_enabled_check(client: AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {
        "disk",
{% if cookiecutter.database != "none" %}
        "database",
{% endif %}
{% if cookiecutter.redis == "yes" %}
        "redis",
{% endif %}
{% if cookiecutter.llm != "none" %}
        "llm",
{% endif %}
    }
    assert all(check["status"] == "ok" for check in body["checks"].values())


async def test_ready_is_503_with_the_failing_check_named(settings: Settings, serve: Serve) -> None:
    short_of_disk = settings.model_copy(update={"health_min_free_disk_mb": 10**12})

    async with serve(create_app(short_of_disk)) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["disk"]["status"] == "fail"
    assert "below the" in body["checks"]["disk"]["detail"]
{% if cookiecutter.database != "none" %}
    assert body["checks"]["database"]["status"] == "ok"
{% endif %}
{% if cookiecutter.redis == "yes" %}
    assert body["checks"]["redis"]["status"] == "ok"


async def test_ready_is_503_when_redis_is_unreachable(settings: Settings, serve: Serve) -> None:
    nowhere = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})

    async with serve(create_app(nowhere)) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["status"] == "fail"
{% endif %}

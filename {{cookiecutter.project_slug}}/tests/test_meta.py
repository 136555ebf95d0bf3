from httpx import AsyncClient

from {{ cookiecutter.package_name }} import __description__, __version__


async def test_service_info_names_the_service(client: AsyncClient) -> None:
    response = await client.get("/api/v1/meta")

    assert response.status_code == 200
    assert response.json() == {
        "name": {{ cookiecutter.project_name | tojson }},
        "version": __version__,
        "environment": "test",
    }


async def test_openapi_describes_the_service(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    assert schema["info"]["title"] == {{ cookiecutter.project_name | tojson }}
    assert schema["info"]["version"] == __version__
    assert schema["info"]["description"] == __description__
    assert {"health", "meta"} <= {tag["name"] for tag in schema["tags"]}

{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
{% if cookiecutter.redis == "yes" %}
"""Jobs need a credential with the ``jobs`` scope, and each caller's jobs are their own."""
{% else %}
"""Jobs need a credential with the ``jobs`` scope."""
{% endif %}

from httpx import AsyncClient

{% if cookiecutter.redis == "yes" and not api_keys %}
from tests.conftest import ADMIN_EMAIL, Account, bearer, log_in, sign_up
{% elif cookiecutter.redis == "yes" %}
from tests.conftest import Account, sign_up
{% elif not api_keys %}
from tests.conftest import ADMIN_EMAIL, bearer, log_in
{% endif %}
from tests.test_job_limits import JOBS, TEXT, assert_problem


async def test_queueing_a_job_needs_a_credential(anonymous: AsyncClient) -> None:
    queued = await anonymous.post(JOBS, json=TEXT)
{% if cookiecutter.redis == "yes" %}
    polled = await anonymous.get("/api/v1/jobs/some-job")
{% endif %}

    assert_problem(queued, 401, "unauthorized")
{% if cookiecutter.redis == "yes" %}
    assert_problem(polled, 401, "unauthorized")
{% endif %}


async def test_a_credential_without_the_jobs_scope_gets_a_403(
    client: AsyncClient, anonymous: AsyncClient
) -> None:
{% if api_keys %}
    key = await client.post("/api/v1/api-keys", json={"name": "no jobs", "scopes": ["notes:read"]})
    assert key.status_code == 201, key.text
    narrow = {"X-API-Key": key.json()["key"]}
{% else %}
    narrow = bearer((await log_in(client, ADMIN_EMAIL, scope="profile"))["access_token"])
{% endif %}

    response = await anonymous.post(JOBS, json=TEXT, headers=narrow)

    assert_problem(response, 403, "forbidden")
    assert "jobs" in response.json()["detail"]
{% if cookiecutter.redis == "yes" %}


async def test_another_callers_job_is_not_found(
    client: AsyncClient, anonymous: AsyncClient, member: Account
) -> None:
    other = await sign_up(client, "other@example.com")
    queued = await anonymous.post(JOBS, json=TEXT, headers=member.headers)
    assert queued.status_code == 202, queued.text
    job = f"/api/v1/jobs/{queued.json()['job_id']}"

    mine = await anonymous.get(job, headers=member.headers)
    theirs = await anonymous.get(job, headers=other.headers)
    by_an_admin = await client.get(job)

    assert mine.status_code == 200
    assert mine.json()["status"] == "queued"
    assert_problem(theirs, 404, "not_found")
    assert by_an_admin.status_code == 200
{% endif %}

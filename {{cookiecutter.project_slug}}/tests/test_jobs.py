"""Background jobs, whichever queue runs them: the job itself and the input it accepts."""

from httpx import AsyncClient

from {{ cookiecutter.package_name }}.jobs.tasks import JobContext, analyze_text

TEXT = "Hello brave\nnew world"


async def explode(ctx: JobContext) -> None:
    msg = "connection failed: password=hunter2"
    raise RuntimeError(msg)


async def test_analyze_text_measures_the_text() -> None:
    stats = await analyze_text({"job_id": "job-1"}, TEXT)

    assert stats == {"characters": 21, "words": 4, "lines": 2, "estimated_tokens": 6}


async def test_an_empty_text_is_refused(client: AsyncClient) -> None:
    response = await client.post("/api/v1/jobs/text-analysis", json={"text": ""})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "text"]

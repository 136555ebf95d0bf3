"""Background jobs: hand work over and get an answer at once{{ ", poll for the result" if cookiecutter.redis == "yes" }}."""

from fastapi import APIRouter, status

from {{ cookiecutter.package_name }}.core.dependencies import JobQueueDep
{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses
{% endif %}
from {{ cookiecutter.package_name }}.jobs.tasks import analyze_text
{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.models.jobs import JobAccepted, JobState, TextAnalysisRequest
{% else %}
from {{ cookiecutter.package_name }}.models.jobs import JobAccepted, TextAnalysisRequest
{% endif %}

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post(
    "/text-analysis",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Measure a text in the background",
{% if cookiecutter.redis == "yes" %}
    responses=problem_responses(503),
{% endif %}
)
async def queue_text_analysis(body: TextAnalysisRequest, jobs: JobQueueDep) -> JobAccepted:
    job_id = await jobs.enqueue(analyze_text, text=body.text)
    return JobAccepted(job_id=job_id)
{% if cookiecutter.redis == "yes" %}


@router.get(
    "/{job_id}",
    summary="Status of a job, and its result once complete",
    responses=problem_responses(404, 503),
)
async def job_state(job_id: str, jobs: JobQueueDep) -> JobState:
    return await jobs.state(job_id)
{% endif %}

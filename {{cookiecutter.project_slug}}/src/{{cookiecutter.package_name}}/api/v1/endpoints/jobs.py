"""Background jobs: hand work over and get an answer at once{{ ", poll for the result" if cookiecutter.redis == "yes" }}.

Queueing is rate limited per caller (``JOB_RATE_LIMIT``), and a job's input is
bounded (``JOB_MAX_PAYLOAD_BYTES``).
{% if cookiecutter.auth != "none" and cookiecutter.redis == "yes" %}
The routes need the ``jobs`` scope, and a caller reaches only their own jobs (an
admin: everyone's).
{% elif cookiecutter.auth != "none" %}
The route needs the ``jobs`` scope.
{% endif %}
"""

from fastapi import APIRouter, Depends, status

{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.core.authorization import Scope
from {{ cookiecutter.package_name }}.core.dependencies import JobQueueDep, limit_jobs, require_scopes
{% else %}
from {{ cookiecutter.package_name }}.core.dependencies import JobQueueDep, limit_jobs
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.jobs.tasks import analyze_text
{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.models.jobs import JobAccepted, JobState, TextAnalysisRequest
{% else %}
from {{ cookiecutter.package_name }}.models.jobs import JobAccepted, TextAnalysisRequest
{% endif %}

{% if cookiecutter.auth != "none" %}
router = APIRouter(
    prefix="/jobs",
    tags=["jobs"],
    dependencies=[Depends(require_scopes(Scope.JOBS))],
    responses=problem_responses(401, 403, 429),
)
{% else %}
router = APIRouter(prefix="/jobs", tags=["jobs"])
{% endif %}


@router.post(
    "/text-analysis",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Measure a text in the background",
    dependencies=[Depends(limit_jobs)],
{% if cookiecutter.redis == "yes" %}
    responses=problem_responses(413, 429, 503),
{% else %}
    responses=problem_responses(413, 429),
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

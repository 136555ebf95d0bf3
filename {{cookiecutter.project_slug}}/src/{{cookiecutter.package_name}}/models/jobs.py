"""Request and response bodies of the background jobs."""

from typing import Literal

from pydantic import BaseModel, Field{{ ", JsonValue" if cookiecutter.redis == "yes" }}

MAX_TEXT_LENGTH = 100_000


class TextAnalysisRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)


class JobAccepted(BaseModel):
{% if cookiecutter.redis == "yes" %}
    job_id: str = Field(description="Poll GET /api/v1/jobs/{job_id} for the result.")
{% else %}
    job_id: str = Field(description="Appears in the log lines of the job.")
{% endif %}
    status: Literal["queued"] = "queued"
{% if cookiecutter.redis == "yes" %}


class JobState(BaseModel):
    job_id: str
    status: Literal["deferred", "queued", "in_progress", "complete", "failed"]
    result: JsonValue = Field(default=None, description="What the job returned, once complete.")
{% endif %}

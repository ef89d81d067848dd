"""API operations on results: per-question figures and breakdowns under the small-group rule (as the
pages show them), and exports as jobs with a download link."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Response, abort, url_for
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.survey.api import api, survey_or_404
from services.survey.results import exports
from services.survey.results.anonymity import still_needed, threshold
from services.survey.results.breakdown import BreakdownError, breakdown
from services.survey.results.figures import Bar, NumberStats, question_results
from services.survey.results.jobs import start_export
from services.survey.results.scope import NO_FILTER, complete_count, filter_allowed
from shared.api.blueprint import current_key, json_response
from shared.api.problems import field_problem, problem
from shared.models import ApiScope, Job, JobFile, JobFileRole, JobKind, JobStatus
from shared.web import db_session

TAG = "Results"


class SurveyPath(BaseModel):
    survey_id: int = Field(ge=1, le=2**31 - 1)


class BarOut(BaseModel):
    key: str
    label: str
    count: int
    percent: float | None = Field(description="Of those who answered the question (or matrix row).")
    percent_of_answers: float | None = Field(description="`multiple` only: of all choices made.")


class StatsOut(BaseModel):
    n: int
    mean: float | None
    median: float | None
    min: float | None
    max: float | None
    nps: float | None
    promoters: int
    detractors: int


class RowOut(BaseModel):
    key: str
    label: str
    bars: list[BarOut]
    dont_know: int
    respondents: int
    stats: StatsOut


class QuestionOut(BaseModel):
    key: str
    type: str
    text: str
    respondents: int
    bars: list[BarOut]
    dont_know: int
    stats: StatsOut | None
    rows: list[RowOut]
    other_count: int
    text_count: int
    texts: list[str] = Field(
        description="The first free texts: in an anonymous survey only when there are at least k of them; "
        "in a survey that is not anonymous only with the scope survey:responses."
    )


class ResultsOut(BaseModel):
    total: int = Field(description="Complete responses counted.")
    needed: int = Field(description="An anonymous survey shows nothing until it has this many more responses.")
    threshold: int = Field(description="k of the small-group rule: smaller groups are not shown.")
    questions: list[QuestionOut]


class BreakdownQuery(BaseModel):
    item: str = Field(min_length=1, max_length=200, description="A closed question's key (`matrix.row` for a row).")
    by: str = Field(min_length=1, max_length=200, description="`attr:<participant attribute>` or `q:<question key>`.")


class CellOut(BaseModel):
    count: int
    percent: float | None


class GroupOut(BaseModel):
    key: str
    label: str
    size: int | None = Field(description="null when the group is hidden by the small-group rule.")
    hidden: bool
    cells: list[CellOut]


class BreakdownOut(BaseModel):
    columns: list[str]
    groups: list[GroupOut]
    total: GroupOut | None
    threshold: int


class ExportIn(BaseModel):
    format: Literal["csv", "xlsx", "spss", "r"] = "csv"
    labels: bool = Field(False, description="Option labels instead of codes.")
    include_partial: bool = Field(False, description="Responses in progress too (never in an anonymous survey).")
    include_identity: bool = Field(False, description="E-mail and name (never in an anonymous survey).")


class FileOut(BaseModel):
    id: int
    name: str
    size: int
    url: str


class JobOut(BaseModel):
    id: int
    kind: JobKind
    status: JobStatus
    done: int
    total: int | None
    percent: int
    error: str
    created_at: datetime
    finished_at: datetime | None
    url: str
    files: list[FileOut]


class JobPath(BaseModel):
    job_id: int = Field(ge=1, le=2**31 - 1)


class JobFilePath(BaseModel):
    job_id: int = Field(ge=1, le=2**31 - 1)
    file_id: int = Field(ge=1, le=2**31 - 1)


def _bar(b: Bar) -> BarOut:
    return BarOut(
        key=b.key, label=str(b.label), count=b.count, percent=b.percent, percent_of_answers=b.percent_of_answers
    )


def _stats(st: NumberStats) -> StatsOut:
    return StatsOut(**st.__dict__)


def _responses_allowed(survey) -> bool:
    """Response-level data: an anonymous survey's is safe under the k rule; another's needs the scope."""
    return survey.anonymous or current_key().allows(ApiScope.SURVEY_RESPONSES)


@api.operation(
    "GET",
    "/surveys/<int:survey_id>/results",
    scope=ApiScope.SURVEY_READ,
    tag=TAG,
    summary="Per-question results",
    responses={200: ResultsOut},
)
def results(path: SurveyPath):
    """Counts, percentages, means, medians and NPS for every question, as the Resultat page."""
    s = db_session()
    survey = survey_or_404(path.survey_id)
    found = question_results(s, survey, texts_shown=5 if _responses_allowed(survey) else 0)
    return json_response(
        ResultsOut(
            total=found.total,
            needed=found.needed,
            threshold=threshold(survey),
            questions=[
                QuestionOut(
                    key=r.question.key,
                    type=r.question.type.value,
                    text=r.question.text,
                    respondents=r.respondents,
                    bars=[_bar(b) for b in r.bars],
                    dont_know=r.dont_know,
                    stats=_stats(r.stats) if r.stats is not None else None,
                    rows=[
                        RowOut(
                            key=row.key,
                            label=str(row.label),
                            bars=[_bar(b) for b in row.bars],
                            dont_know=row.dont_know,
                            respondents=row.respondents,
                            stats=_stats(row.stats),
                        )
                        for row in r.rows
                    ],
                    other_count=r.other_count,
                    text_count=r.text_count,
                    texts=r.texts,
                )
                for r in found.questions
            ],
        )
    )


@api.operation(
    "GET",
    "/surveys/<int:survey_id>/breakdown",
    scope=ApiScope.SURVEY_READ,
    tag=TAG,
    summary="A question broken down by a group",
    responses={200: BreakdownOut},
)
def breakdown_of(path: SurveyPath, query: BreakdownQuery):
    """Groups smaller than k are hidden (and one more when exactly one would be)."""
    s = db_session()
    survey = survey_or_404(path.survey_id)
    if still_needed(survey, complete_count(s, survey)):
        return problem(409, "Too few complete responses to show results yet.")
    if not filter_allowed(s, survey, NO_FILTER):
        return problem(409, "Too few responses to show.")
    try:
        table = breakdown(s, survey, query.item, query.by)
    except BreakdownError:
        return field_problem("query.item", "Choose a closed question and something else to break it down by.")

    def group(g) -> GroupOut:
        return GroupOut(
            key=g.key,
            label=str(g.label),
            size=g.size,
            hidden=g.hidden,
            cells=[CellOut(count=c.count, percent=c.percent) for c in g.cells],
        )

    return json_response(
        BreakdownOut(
            columns=[str(c.label) for c in table.columns],
            groups=[group(g) for g in table.groups],
            total=group(table.total) if table.total is not None else None,
            threshold=table.threshold,
        )
    )


def job_out(job: Job) -> JobOut:
    files = db_session().execute(
        select(JobFile.id, JobFile.name, JobFile.size)
        .where(JobFile.job_id == job.id, JobFile.role == JobFileRole.OUTPUT)
        .order_by(JobFile.id)
    )
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        done=job.done,
        total=job.total,
        percent=job.percent,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        url=url_for("api_survey.job", job_id=job.id, _external=True),
        files=[
            FileOut(
                id=f.id,
                name=f.name,
                size=f.size,
                url=url_for("api_survey.job_file", job_id=job.id, file_id=f.id, _external=True),
            )
            for f in files
        ],
    )


@api.operation(
    "POST",
    "/surveys/<int:survey_id>/exports",
    scope=ApiScope.SURVEY_READ,
    tag=TAG,
    summary="Export the responses (a job)",
    responses={202: JobOut},
)
def export(path: SurveyPath, body: ExportIn):
    """Starts a job; follow `url` until `status` is `done`, then fetch the files. An anonymous survey is
    exported only once it has k complete responses; a survey that is not anonymous needs the scope
    survey:responses."""
    s = db_session()
    survey = survey_or_404(path.survey_id)
    if not _responses_allowed(survey):
        return problem(403, "Response-level data of a survey that is not anonymous needs the scope survey:responses.")
    options = exports.ExportOptions(
        format=body.format,
        labels=body.labels,
        include_partial=body.include_partial,
        include_identity=body.include_identity,
    )
    try:
        job = start_export(s, survey, options, created_by=current_key().account_id, return_path="")
    except exports.TooFewResponses as exc:
        return problem(409, f"{exc.needed} more complete responses are needed before an export.")
    s.commit()
    return json_response(job_out(job), 202)


def _job(job_id: int) -> Job:
    """A survey job the key's account started (an export holds response-level data)."""
    job = db_session().get(Job, job_id)
    if job is None or job.service != "survey" or job.created_by != current_key().account_id:
        abort(404)
    return job


@api.operation(
    "GET",
    "/jobs/<int:job_id>",
    scope=ApiScope.SURVEY_READ,
    tag=TAG,
    summary="A job's progress",
    responses={200: JobOut},
)
def job(path: JobPath):
    return json_response(job_out(_job(path.job_id)))


@api.operation(
    "GET",
    "/jobs/<int:job_id>/files/<int:file_id>",
    scope=ApiScope.SURVEY_READ,
    tag=TAG,
    summary="Download a job's file",
    responses={200: None},
)
def job_file(path: JobFilePath):
    found = db_session().scalar(
        select(JobFile).where(
            JobFile.id == path.file_id, JobFile.job_id == _job(path.job_id).id, JobFile.role == JobFileRole.OUTPUT
        )
    )
    if found is None:
        abort(404)
    return Response(
        found.data,
        mimetype=found.content_type,
        headers={"Content-Disposition": f'attachment; filename="{found.name}"'},
    )

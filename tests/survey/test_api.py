"""The survey service's API as an integrator uses it: a survey from JSON, participants in bulk,
invitations sent once, results under the small-group rule, exports as jobs, and response-level
data of a survey that is not anonymous only with the scope survey:responses."""

from __future__ import annotations

import json
import threading

import yaml
from sqlalchemy import func, select

from services.demo import DEMO_DATA
from services.worker import job_functions, service_contexts
from shared.jobs import run_next_job
from shared.models import OutboxMail, Survey
from tests.api_keys import bearer, new_key
from tests.survey.results_data import make_regions


def _definition(**changes) -> dict:
    data = yaml.safe_load((DEMO_DATA / "survey-millennium.yaml").read_text(encoding="utf-8"))
    data.update(closes="2099-12-31", **changes)
    return json.loads(json.dumps(data, default=str))  # as a JSON file would hold it


def _mails(app) -> int:
    with app.extensions["utskick"].db.sessions() as s:
        return s.scalar(select(func.count()).select_from(OutboxMail))


def test_survey_from_json_participants_invitations_results(app, config):
    client = app.test_client()
    h = bearer(new_key(app, ["survey:write"]))
    created = client.post("/api/v1/surveys", headers=h, json={"definition": _definition()})
    assert created.status_code == 201 and created.json["status"] == "draft"
    survey_id = created.json["id"]
    assert client.post(f"/api/v1/surveys/{survey_id}/invitations", headers=h).status_code == 409  # a draft
    closed = client.patch(f"/api/v1/surveys/{survey_id}", headers=h, json={"closes": "2001-01-31"})
    assert closed.json["closes_at"] == "2001-01-31T23:00:00Z"  # the whole day in Swedish time
    assert client.post(f"/api/v1/surveys/{survey_id}/open", headers=h).status_code == 409  # closing date past
    client.patch(f"/api/v1/surveys/{survey_id}", headers=h, json={"closes": None})
    assert client.post(f"/api/v1/surveys/{survey_id}/open", headers=h).json["status"] == "open"

    people = [
        {"email": "a@vastkom.example", "name": "Anna", "attributes": {"delregion": "Norr"}},
        {"email": "B@vastkom.example", "attributes": {"Delregion": "Syd"}},
        {"email": "a@vastkom.example", "name": "Anna A"},
        {"email": "inte-en-adress"},
    ]
    added = client.post(f"/api/v1/surveys/{survey_id}/participants", headers=h, json={"participants": people})
    assert added.json["added"] == 2 and added.json["merged"] == 1
    assert [e["index"] for e in added.json["errors"]] == [3]

    retry = {**h, "Idempotency-Key": "inbjudan-1"}
    sent = client.post(f"/api/v1/surveys/{survey_id}/invitations", headers=retry)
    assert sent.status_code == 202 and sent.json["kind"] == "survey_invitations" and sent.json["total"] == 2
    assert client.post(f"/api/v1/surveys/{survey_id}/invitations", headers=retry).json == sent.json
    run_next_job(app.extensions["utskick"].db, config, job_functions(), threading.Event(), service_contexts(config))
    assert client.get(f"/api/v1/jobs/{sent.json['id']}", headers=h).json["status"] == "done"
    assert client.post(f"/api/v1/surveys/{survey_id}/invitations", headers=h).status_code == 409  # nobody left
    assert _mails(app) == 2
    listed = client.get(f"/api/v1/surveys/{survey_id}/participants?status=invited", headers=h).json
    assert [(p["email"], p["name"], p["attributes"]) for p in listed["items"]] == [
        ("a@vastkom.example", "Anna A", {"delregion": "Norr"}),
        ("b@vastkom.example", "", {"delregion": "Syd"}),
    ]
    assert listed["counts"]["invited"] == 2
    mailings = client.get(f"/api/v1/surveys/{survey_id}/mailings", headers=h).json
    assert mailings["not_invited"] == 0 and mailings["participants"]["invited"] == 2

    # An anonymous survey shows nothing below k complete responses …
    results = client.get(f"/api/v1/surveys/{survey_id}/results", headers=h).json
    assert results["questions"] == [] and results["needed"] == 5
    # … and per question figures once it has them, with small groups hidden in breakdowns.
    with app.extensions["utskick"].db.transaction() as s:
        make_regions(s, s.get(Survey, survey_id), {"Norr": 6, "Mitt": 7, "Syd": 2, "Väst": 1})
    results = client.get(f"/api/v1/surveys/{survey_id}/results", headers=h).json
    assert results["total"] == 16 and results["threshold"] == 5
    delaktighet = next(q for q in results["questions"] if q["key"] == "delaktighet")
    assert sum(b["count"] for b in delaktighet["bars"]) == 16
    table = client.get(
        f"/api/v1/surveys/{survey_id}/breakdown",
        headers=h,
        query_string={"item": "delaktighet", "by": "attr:delregion"},
    ).json
    sizes = {g["key"]: (g["size"], g["hidden"]) for g in table["groups"]}
    assert sizes["Norr"] == (6, False) and sizes["Mitt"] == (7, False)
    assert sizes["Syd"] == sizes["Väst"] == (None, True)  # smaller than k

    copied = client.post(f"/api/v1/surveys/{survey_id}/copy", headers=h)
    assert copied.status_code == 201 and copied.json["status"] == "draft" and copied.json["id"] != survey_id
    assert client.get(f"/api/v1/surveys/{copied.json['id']}/participants", headers=h).json["items"] == []
    assert client.post(f"/api/v1/surveys/{survey_id}/close", headers=h).json["status"] == "closed"
    replaced = client.put(
        f"/api/v1/surveys/{survey_id}/definition", headers=h, json={"definition": _definition(title="Ny")}
    )
    assert replaced.status_code == 409  # not a draft any more


def test_definition_errors_are_listed_by_path(app):
    h = bearer(new_key(app, ["survey:write"]))
    bad = _definition()
    bad["pages"][0]["questions"][0]["type"] = "gissning"
    answer = app.test_client().post("/api/v1/surveys", headers=h, json={"definition": bad})
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"].startswith("body.definition.pages[0].questions[0].type")
    yaml_text = (DEMO_DATA / "survey-millennium.yaml").read_text(encoding="utf-8").replace("closes: 20", "closes: 20")
    assert app.test_client().post("/api/v1/surveys", headers=h, json={"definition": yaml_text}).status_code == 201


def test_exports_are_jobs_and_personal_data_needs_its_scope(app, config):
    client = app.test_client()
    reader = bearer(new_key(app, ["survey:read"]))
    with app.extensions["utskick"].db.transaction() as s:
        from tests.survey.results_data import make_survey

        named = make_survey(s, anonymous=False)
        make_regions(s, named, {"Norr": 5})
        named_id = named.id
    refused = client.post(f"/api/v1/surveys/{named_id}/exports", headers=reader, json={"format": "csv"})
    assert refused.status_code == 403
    assert "survey:responses" in refused.json["detail"]
    results = client.get(f"/api/v1/surveys/{named_id}/results", headers=reader).json
    assert all(q["texts"] == [] for q in results["questions"])

    allowed = bearer(new_key(app, ["survey:read", "survey:responses"], email="analys@vastkom.example"))
    started = client.post(f"/api/v1/surveys/{named_id}/exports", headers=allowed, json={"format": "csv"})
    assert started.status_code == 202 and started.json["status"] == "queued"
    job_path = started.json["url"].split("//", 1)[1].split("/", 1)[1]
    assert client.get("/" + job_path, headers=reader).status_code == 404  # another account's job
    run_next_job(app.extensions["utskick"].db, config, job_functions(), threading.Event(), service_contexts(config))
    done = client.get("/" + job_path, headers=allowed).json
    assert done["status"] == "done" and done["files"]
    download = client.get("/" + done["files"][0]["url"].split("//", 1)[1].split("/", 1)[1], headers=allowed)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert len(download.get_data(as_text=True).splitlines()) == 6  # a header and five responses

"""Property tests generated from each service's OpenAPI document (schemathesis): whatever input
hypothesis makes up, valid or not, no operation answers 5xx, and every answer matches the document
(its status, its content type, its body's schema). A few rows exist first, so ids 1 find something."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.mailer import create_app as mailer_app
from services.mailer.issues.domain import create_issue
from services.mailer.subscriptions.domain import find_list, request_subscription
from services.survey import create_app as survey_app
from services.survey.participants.domain import import_participants_csv
from services.survey.surveys.domain import create_survey, open_survey
from tests.api_keys import bearer, new_key
from tests.survey.conftest import millennium

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
NEGATIVE_CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
# Per operation and mode: enough to reach every branch of the models, fast enough for make test.
# UTSKICK_API_EXAMPLES=200 for a longer hunt.
EXAMPLES = int(os.environ.get("UTSKICK_API_EXAMPLES", "6"))


def _seed_mailer(app) -> None:
    svc = app.extensions["utskick"]
    with app.test_request_context(), svc.db.transaction() as s:
        request_subscription(s, svc.config, svc.tokens, find_list(s), "finns@vastkom.example")
        create_issue(s, list_id=find_list(s).id, subject="Nummer 1", preheader="", source="## Hej\n\nText")


def _seed_survey(app) -> None:
    svc = app.extensions["utskick"]
    with app.test_request_context(), svc.db.transaction() as s:
        survey = create_survey(s, millennium())
        open_survey(s, survey)
        import_participants_csv(s, survey.id, "email,name,delregion\nen@vastkom.example,En,Norr\n")


SERVICES = {
    "mailer": (mailer_app, _seed_mailer, ["mailer:write"]),
    "survey": (survey_app, _seed_survey, ["survey:write", "survey:responses"]),
}


def _explore(operation, mode: GenerationMode, headers: dict[str, str], statuses: set[int]) -> None:
    """Call one operation with made-up input and check each answer against the document."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(headers=headers)
        if mode == GenerationMode.POSITIVE:
            statuses.add(response.status_code)
        # Input outside the document (negative mode) must be refused, never crash.
        case.validate_response(response, checks=CHECKS if mode == GenerationMode.POSITIVE else NEGATIVE_CHECKS)

    check()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_api_keeps_to_its_document(service, config):
    factory, seed, scopes = SERVICES[service]
    app = factory(config.with_(api_requests_per_minute=1_000_000))
    seed(app)
    headers = bearer(new_key(app, scopes))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    statuses: set[int] = set()
    for operation in operations:
        for mode in GenerationMode:
            _explore(operation, mode, headers, statuses)
    # The key worked and the made-up input reached the operations: successes and refusals both.
    assert {200, 404, 422} <= statuses and 401 not in statuses and 500 not in statuses
    app.extensions["utskick"].db.dispose()

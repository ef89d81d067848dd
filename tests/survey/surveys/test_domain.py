"""Surveys as evaluators manage them: replacing a draft's definition."""

from __future__ import annotations

import yaml

from services.survey.mailings.rendering import DEFAULT_TEXTS
from services.survey.surveys.domain import create_survey, export_yaml, replace_definition
from tests.survey.conftest import millennium


def test_switching_the_language_switches_the_default_mail_texts_only(app, db):
    with app.test_request_context(), db.transaction() as s:
        survey = create_survey(s, millennium(language="en"))
        assert survey.invitation_text == DEFAULT_TEXTS["en"]["invitation_text"]
        survey.reminder_subject = "Don't forget: {enkät}"  # the evaluator's own text
        definition = yaml.safe_load(export_yaml(survey))
        replace_definition(s, survey, yaml.safe_dump({**definition, "language": "sv"}, allow_unicode=True))
        assert survey.language == "sv"
        assert survey.invitation_text == DEFAULT_TEXTS["sv"]["invitation_text"]  # not "The survey closes on …"
        assert survey.invitation_subject == DEFAULT_TEXTS["sv"]["invitation_subject"]
        assert survey.reminder_subject == "Don't forget: {enkät}"

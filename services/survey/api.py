"""The survey service's HTTP API (``/api/v1``): each feature adds its operations in its own ``api.py``."""

from flask import abort

from shared.api.blueprint import Api
from shared.api.webhook_operations import add_webhook_operations
from shared.models import ApiScope, Survey
from shared.web import db_session

api = Api(
    "survey",
    "Utskick – enkäter, API",
    "Surveys from a definition, participants, invitations and reminders, results under the small-group "
    "rule, and exports.",
)

add_webhook_operations(api, ApiScope.SURVEY_WRITE)


def survey_or_404(survey_id: int) -> Survey:
    found = db_session().get(Survey, survey_id)
    if found is None:
        abort(404)
    return found


def register(app) -> None:
    from services.survey.mailings import api as _mailings
    from services.survey.participants import api as _participants
    from services.survey.results import api as _results
    from services.survey.surveys import api as _surveys

    del _mailings, _participants, _results, _surveys  # imported for the operations they add to ``api``
    api.init_app(app)

"""The mailer's HTTP API (``/api/v1``): each feature adds its operations in its own ``api.py``."""

from shared.api.blueprint import Api
from shared.api.webhook_operations import add_webhook_operations
from shared.models import ApiScope

api = Api(
    "mailer",
    "Utskick – nyhetsbrev, API",
    "Lists, subscribers, subscriptions (double opt-in), suppressions and newsletter issues.",
)

add_webhook_operations(api, ApiScope.MAILER_WRITE)


def register(app) -> None:
    from services.mailer.bounces import api as _bounces
    from services.mailer.issues import api as _issues
    from services.mailer.subscriptions import api as _subscriptions

    del _bounces, _issues, _subscriptions  # imported for the operations they add to ``api``
    api.init_app(app)

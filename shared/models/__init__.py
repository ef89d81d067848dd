"""The one schema. Import every model module here so metadata (and Alembic) sees all tables."""
from shared.models.base import Base
from shared.models.accounts import ROLES, AdminUser
from shared.models.issues import BounceEvent, Delivery, Issue
from shared.models.outbox import OutboxMail
from shared.models.subscriptions import (
    NewsletterList,
    RateEvent,
    Subscriber,
    Subscription,
    SubscriptionEvent,
)
from shared.models.suppressions import Suppression
from shared.models.surveys import Answer, Participant, Response, Survey

__all__ = [
    "Base",
    "ROLES",
    "AdminUser",
    "OutboxMail",
    "NewsletterList",
    "RateEvent",
    "Subscriber",
    "Subscription",
    "SubscriptionEvent",
    "Suppression",
    "Survey",
    "Participant",
    "Response",
    "Answer",
    "Issue",
    "Delivery",
    "BounceEvent",
]

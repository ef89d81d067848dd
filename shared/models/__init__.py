"""The one schema. Import every model module here so metadata (and Alembic) sees all tables.

Statuses and kinds are ``Vocabulary`` enums next to their table: the code that writes a value and
the code that reads it use the same name, and ``member.label`` is what users see.
"""

from shared.models.accounts import AccountStatus, AdminUser, Role
from shared.models.api import (
    ApiKey,
    ApiScope,
    IdempotentCall,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
)
from shared.models.base import Base, Vocabulary
from shared.models.issues import (
    BounceEvent,
    BounceKind,
    BounceSource,
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    SendGrant,
)
from shared.models.jobs import Job, JobFile, JobFileRole, JobKind, JobStatus
from shared.models.newsletters import IssueList, IssueRevision, LinkClick, MailTemplate, MediaFile, Segment, Setting
from shared.models.outbox import MailKind, OutboxMail, OutboxStatus
from shared.models.reports import Report
from shared.models.subscriptions import (
    ConsentMethod,
    ImportRow,
    NewsletterList,
    RateEvent,
    RateLock,
    Subscriber,
    Subscription,
    SubscriptionEvent,
    SubscriptionEventKind,
    SubscriptionStatus,
)
from shared.models.suppressions import Suppression, SuppressionReason
from shared.models.surveys import (
    Answer,
    Participant,
    ParticipantLink,
    ParticipantStatus,
    Response,
    ResponseStatus,
    Survey,
    SurveyMail,
    SurveyMailing,
    SurveyMailingBatch,
    SurveyStatus,
    SurveyVersion,
)
from shared.models.worker import WorkerHeartbeat

__all__ = [
    "AccountStatus",
    "AdminUser",
    "Answer",
    "ApiKey",
    "ApiScope",
    "Base",
    "BounceEvent",
    "BounceKind",
    "BounceSource",
    "ConsentMethod",
    "Delivery",
    "DeliveryStatus",
    "IdempotentCall",
    "ImportRow",
    "Issue",
    "IssueList",
    "IssueRevision",
    "IssueStatus",
    "Job",
    "JobFile",
    "JobFileRole",
    "JobKind",
    "JobStatus",
    "LinkClick",
    "MailKind",
    "MailTemplate",
    "MediaFile",
    "NewsletterList",
    "OutboxMail",
    "OutboxStatus",
    "Participant",
    "ParticipantLink",
    "ParticipantStatus",
    "RateEvent",
    "RateLock",
    "Report",
    "Response",
    "ResponseStatus",
    "Role",
    "Segment",
    "SendGrant",
    "Setting",
    "Subscriber",
    "Subscription",
    "SubscriptionEvent",
    "SubscriptionEventKind",
    "SubscriptionStatus",
    "Suppression",
    "SuppressionReason",
    "Survey",
    "SurveyMail",
    "SurveyMailing",
    "SurveyMailingBatch",
    "SurveyStatus",
    "SurveyVersion",
    "Vocabulary",
    "Webhook",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEvent",
    "WorkerHeartbeat",
]

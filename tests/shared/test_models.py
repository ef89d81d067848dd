"""Statuses and kinds: a Vocabulary column stores only known values and reads back members with labels."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from services.mailer import create_app
from shared.models import MailKind, OutboxMail, OutboxStatus, Suppression, SuppressionReason


def mail(**changes) -> OutboxMail:
    values = {
        "kind": MailKind.CONFIRMATION,
        "sender": "a@utskick.example",
        "recipient": "b@exempel.se",
        "subject": "Hej",
        "message": b"",
    }
    return OutboxMail(**{**values, **changes})


@pytest.mark.parametrize("changes", [{"status": "sendt"}, {"kind": "newsletter"}])
def test_an_unknown_status_or_kind_cannot_be_written(db, changes):
    with pytest.raises(StatementError, match="is not a valid"), db.transaction() as session:
        session.add(mail(**changes))
    with db.sessions() as session:
        assert session.scalars(select(OutboxMail)).all() == []


def test_values_read_back_as_members_with_their_words(db, config):
    with db.transaction() as session:
        session.add(mail(status="sent"))  # a plain string of a known value is accepted
        session.add(Suppression(email="borta@exempel.se", reason=SuppressionReason.HARD_BOUNCE))
    with db.sessions() as session:
        stored = session.scalar(select(OutboxMail))
        reason = session.scalar(select(Suppression.reason))
    assert stored.status is OutboxStatus.SENT and stored.kind is MailKind.CONFIRMATION
    assert stored.status == "sent"  # still equal to what the database holds
    with create_app(config).app_context():
        assert str(stored.kind.label) == "Bekräftelse av prenumeration"
        assert str(reason.label) == "Permanent studs"
        with force_locale("en"):
            assert str(stored.status.label) == "Sent"

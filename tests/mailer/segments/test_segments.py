"""Segments and who an issue goes to: several lists (each person once), a segment with conditions,
the exact count on the send confirmation, the live count, and the command line."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import func, select, update

from services.cli import main
from services.mailer.issues import domain as issues
from services.mailer.lists import domain as lists
from services.mailer.segments import domain
from services.mailer.subscriptions import people
from shared.models import Delivery, NewsletterList, Segment, Subscription, Suppression
from tests.mailer.issue_fixtures import add_subscribers, default_list


def _setup(app, db) -> tuple[int, int, int]:
    """nyhetsbrev: person0-5; kalender: person3-8 (3, 4, 5 on both); person8 suppressed."""
    with db.transaction() as s:
        kalender = lists.save_list(s, lists.ListFields(slug="kalender", name="Kalenderbrevet"))
        nyhetsbrev = default_list(s)
        add_subscribers(s, 6)
        add_subscribers(s, 3, prefix="kal", start=6, list_id=kalender.id)
        # person3-5 on the second list too
        subscriber_ids = s.scalars(
            select(Subscription.subscriber_id).where(Subscription.list_id == nyhetsbrev.id).order_by(Subscription.id)
        ).all()[3:]
        for sid in subscriber_ids:
            s.add(Subscription(list_id=kalender.id, subscriber_id=sid, status="active", consent_method="import"))
        s.add(Suppression(email="kal8@example.org", reason="hard_bounce"))
        with app.app_context():
            issue = issues.create_issue(s, list_id=nyhetsbrev.id, subject="Hej", preheader="", source="Text")
        return nyhetsbrev.id, kalender.id, issue.id


def test_several_lists_reach_each_person_once(app, db):
    nyhetsbrev, kalender, issue_id = _setup(app, db)
    with db.transaction() as s:
        assert domain.count(s, [nyhetsbrev]) == 6
        assert domain.count(s, [kalender]) == 5  # 3 + 3 - suppressed
        assert domain.count(s, [nyhetsbrev, kalender]) == 8
        issue = s.get_one(issues.Issue, issue_id)
        domain.set_issue_audience(s, issue, list_ids=[nyhetsbrev, kalender])
        assert issues.recipient_count(s, issue) == 8
        assert domain.audience_label(s, issue) == "Kalenderbrevet och Nyhetsbrevet"
        assert issues.fan_out(s, issue, datetime.now(UTC)) == 8
        per_address = s.execute(select(Delivery.email, func.count()).group_by(Delivery.email)).all()
        assert len(per_address) == 8 and all(n == 1 for _email, n in per_address)


def test_a_segment_narrows_by_domain_and_date(app, db):
    _nyhetsbrev, kalender, issue_id = _setup(app, db)
    with db.transaction() as s:
        s.execute(
            update(Subscription)
            .where(Subscription.list_id == kalender)
            .values(confirmed_at=datetime(2026, 6, 1, 10, tzinfo=UTC))
        )
        segment = domain.save_segment(
            s,
            name="Nya på kalendern",
            list_ids=[kalender],
            conditions=[
                {"field": "confirmed", "op": "after", "value": "2026-06-01"},
                {"field": "domain", "op": "equals", "value": "example.org"},
            ],
        )
        assert domain.count(s, segment.list_ids, segment.conditions) == 5
        later = [{"field": "confirmed", "op": "after", "value": "2026-06-02"}]
        assert domain.count(s, [kalender], domain.check_conditions(later)) == 0
        issue = s.get_one(issues.Issue, issue_id)
        domain.set_issue_audience(s, issue, segment_id=segment.id)
        assert issues.recipient_count(s, issue) == 5
        assert domain.audience_label(s, issue) == "segmentet Nya på kalendern"


def test_bad_conditions_are_refused_with_a_message(app, db):
    with app.app_context():
        for bad, message in [
            ({"field": "confirmed", "op": "after", "value": "1 juni"}, "ÅÅÅÅ-MM-DD"),
            ({"field": "favoritfärg", "op": "equals", "value": "blå"}, "okänt fält"),
            ({"field": "domain", "op": "after", "value": "x"}, "välj ett villkor"),
            ({"field": "attribute:kommun", "op": "equals", "value": ""}, "skriv ett värde"),
        ]:
            try:
                domain.check_conditions([bad])
            except domain.SegmentError as exc:
                assert message in exc.message
            else:
                raise AssertionError(bad)


def test_segment_pages_count_live_and_save(app, editor_client, db):
    nyhetsbrev, kalender, issue_id = _setup(app, db)
    form = {
        "name": "Kalender i juni",
        "lists": [str(kalender)],
        "field-1": "domain",
        "op-1": "equals",
        "value-1": "example.org",
    }
    counted = editor_client.post("/admin/segments/new", data={**form, "action": "count"})
    assert counted.status_code == 200
    assert "Segmentet når 5 personer just nu." in counted.get_data(as_text=True)
    live = editor_client.get("/admin/segments/count.json", query_string=form).get_json()
    assert live == {"count": 5}
    saved = editor_client.post("/admin/segments/new", data={**form, "action": "save"})
    assert saved.status_code == 302
    bad = editor_client.post("/admin/segments/new", data={**form, "value-1": "", "action": "save"})
    assert bad.status_code == 400 and "Villkor 1: skriv ett värde." in bad.get_data(as_text=True)
    with db.sessions() as s:
        segment_id = s.scalar(select(Segment.id))
    # The issue goes to the segment; the confirmation shows the exact number.
    edited = editor_client.post(
        f"/admin/issues/{issue_id}/edit",
        data={"list_id": nyhetsbrev, "subject": "Hej", "source": "Text", "segment_id": segment_id},
    )
    assert edited.status_code == 302
    confirm = editor_client.get(f"/admin/issues/{issue_id}/send").get_data(as_text=True)
    assert "skickas till 5 aktiva prenumeranter på segmentet Kalender i juni" in confirm
    # Someone joined since the page was shown: the editor is asked again, nothing is sent.
    stale = editor_client.post(f"/admin/issues/{issue_id}/send", data={"expected": "4"})
    assert stale.status_code == 200 and "Antalet mottagare har ändrats" in stale.get_data(as_text=True)
    assert editor_client.post(f"/admin/issues/{issue_id}/send", data={"expected": "5"}).status_code == 302
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 5


def test_send_to_lists_or_a_segment_from_the_command_line(app, db, cli_env):
    _nyhetsbrev, _kalender, issue_id = _setup(app, db)
    runner = CliRunner()
    unknown = runner.invoke(main, ["issues", "send", str(issue_id), "--segment", "finns inte"])
    assert unknown.exit_code != 0 and "no segment" in unknown.output
    sent = runner.invoke(main, ["issues", "send", str(issue_id), "--list", "nyhetsbrev", "--list", "kalender"])
    assert sent.exit_code == 0, sent.output
    assert "8 mails queued" in sent.output
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 8
        assert s.scalar(select(func.count()).select_from(NewsletterList)) == 2


def test_segments_on_attributes_from_the_persons_page(app, editor_client, db):
    nyhetsbrev, _kalender, _issue_id = _setup(app, db)
    with db.transaction() as s:
        subscriber_ids = s.scalars(select(Subscription.subscriber_id).where(Subscription.list_id == nyhetsbrev)).all()
    kommuner = ["Vänersborg", "Trollhättan", "vänersborg", "Uddevalla", "", "Lysekil"]
    for subscriber_id, kommun in zip(subscriber_ids, kommuner, strict=True):
        response = editor_client.post(
            f"/admin/subscribers/{subscriber_id}/attributes",
            data={"attribute-key": ["kommun", "roll", ""], "attribute-value": [kommun, "chef", ""]},
        )
        assert response.status_code == 302
    page = editor_client.get(f"/admin/subscribers/{subscriber_ids[0]}").get_data(as_text=True)
    assert 'value="kommun"' in page and 'value="Vänersborg"' in page
    with db.transaction() as s:
        assert people.attribute_keys(s) == ["kommun", "roll"]

        def count(op: str, value: str) -> int:
            return domain.count(s, [nyhetsbrev], [{"field": "attribute:kommun", "op": op, "value": value}])

        assert count("equals", "VÄNERSBORG") == 2  # case does not matter
        assert count("not_equals", "Vänersborg") == 4
        assert count("contains", "hätt") == 1
        assert count("empty", "") == 1
    live = editor_client.get(
        "/admin/segments/count.json",
        query_string={
            "lists": [str(nyhetsbrev)],
            "field-1": "attribute",
            "key-1": "kommun",
            "op-1": "equals",
            "value-1": "Uddevalla",
        },
    ).get_json()
    assert live == {"count": 1}


def test_attributes_are_exported_as_columns(app, editor_client, db):
    nyhetsbrev, _kalender, _issue_id = _setup(app, db)
    with db.transaction() as s:
        first = s.scalars(select(Subscription.subscriber_id).where(Subscription.list_id == nyhetsbrev)).first()
    editor_client.post(
        f"/admin/subscribers/{first}/attributes",
        data={"attribute-key": ["kommun", "roll"], "attribute-value": ["Vänersborg", "Kommunchef"]},
    )
    exported = editor_client.get(f"/admin/subscribers/export.csv?list={nyhetsbrev}").get_data(as_text=True)
    lines = exported.lstrip("\ufeff").splitlines()
    assert lines[0] == "email,name,status,requested_at,confirmed_at,unsubscribed_at,kommun,roll"
    assert lines[1].startswith("person0@example.org,Person 0,active,") and lines[1].endswith(",Vänersborg,Kommunchef")
    assert lines[2].endswith(",,")

"""The participant pages: add, change and remove one person; a person's answers only in a named survey."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from shared.models import Participant, Survey
from tests.survey.conftest import post_form


def test_participant_add_edit_remove_pages(evaluator, db, make_survey):
    survey_id = make_survey()
    listing = f"/admin/surveys/{survey_id}/participants"
    bad = post_form(evaluator, listing + "/new", {"email": "inte en adress", "name": "X"}, page_url=listing)
    assert bad.status_code == 422 and "inte en giltig e-postadress" in bad.get_data(as_text=True)
    assert 'value="X"' in bad.get_data(as_text=True)
    ok = post_form(
        evaluator,
        listing + "/new",
        {"email": "ny@x.example", "name": "Ny", "attributes": "roll: chef"},
        page_url=listing,
    )
    assert ok.status_code == 302
    with db.sessions() as s:
        person = s.scalar(select(Participant))
    edit = f"{listing}/{person.id}"
    assert "roll: chef" in evaluator.get(edit).get_data(as_text=True)
    post_form(evaluator, edit, {"email": "ny@x.example", "name": "Ny Person", "attributes": ""})
    assert "Ny Person" in evaluator.get(listing).get_data(as_text=True)
    post_form(evaluator, edit + "/remove", {}, page_url=edit)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 0


@pytest.mark.parametrize("anonymous", [False, True])
def test_participant_page_shows_answers_only_in_a_named_survey(evaluator, db, make_survey, anonymous):
    from services.survey.responses.storage import store_complete_response
    from tests.survey.conftest import PAGE1, PAGE2, PAGE3

    survey_id = make_survey(participants="email,name\nanna@ale.example,Anna\n", anonymous=anonymous)
    with db.transaction() as s:
        person = s.scalar(select(Participant))
        store_complete_response(s, s.get(Survey, survey_id), {**PAGE1, **PAGE2, **PAGE3}, participant=person)
        person_id = person.id
    html = evaluator.get(f"/admin/surveys/{survey_id}/participants/{person_id}").get_data(as_text=True)
    if anonymous:
        assert "Samverka tidigt." not in html and "svaren kan inte kopplas till deltagaren" in html
    else:
        assert "Samverka tidigt." in html and "I ganska hög grad" in html and "Annat: Skolan" in html
        assert "Samverkan med regionen fungerade väl: Vet inte" in html


def test_participant_page_shows_swedish_time_across_summer_time(evaluator, db, make_survey):
    survey_id = make_survey(participants="email,name\nanna@ale.example,Anna\nbo@x.example,Bo\n", anonymous=False)
    with db.transaction() as s:
        anna, bo = s.scalars(select(Participant).order_by(Participant.email)).all()
        anna.invited_at = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)  # 01:30 winter time (UTC+1)
        bo.invited_at = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # 03:30 summer time (UTC+2)
        bo.completed_at = datetime(2025, 10, 25, 22, 30, tzinfo=UTC)  # already the 26th in Sweden
        ids = anna.id, bo.id
    anna_page, bo_page = (
        evaluator.get(f"/admin/surveys/{survey_id}/participants/{i}").get_data(as_text=True) for i in ids
    )
    assert "Inbjuden: 2025-03-30 01:30" in anna_page
    assert "Inbjuden: 2025-03-30 03:30" in bo_page and "Har svarat: 2025-10-26" in bo_page


def test_participant_list_pages_by_key_forward_and_back(evaluator, db, make_survey):
    """'Nästa' and 'Föregående' carry the edge row's id (keyset paging): every participant once, in order."""
    import re

    people = "".join(f"p{i:03}@x.example,Person {i % 7}\r\n" for i in range(230))
    survey_id = make_survey(participants="email,name\r\n" + people)
    url = f"/admin/surveys/{survey_id}/participants"
    seen, pages, html = [], [], evaluator.get(url).get_data(as_text=True)
    while True:
        shown = re.findall(r"p\d{3}@x\.example", html)
        seen.extend(dict.fromkeys(shown))
        pages.append(html)
        following = re.search(r'href="([^"]*after=\d+[^"]*)">Nästa', html)
        if not following:
            break
        html = evaluator.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert len(pages) == 3 and "100 av 230 visas" in pages[0]
    assert len(seen) == 230 == len(set(seen))
    back = re.search(r'href="([^"]*before=\d+[^"]*)">Föregående', pages[-1])
    again = evaluator.get(back.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r"p\d{3}@x\.example", again) == re.findall(r"p\d{3}@x\.example", pages[1])


def test_the_list_says_how_many_of_how_many_are_shown(evaluator, make_survey):
    people = "email,name\r\n" + "".join(f"p{n}@ale.example,Person {n}\r\n" for n in range(105))
    survey_id = make_survey(participants=people)
    html = evaluator.get(f"/admin/surveys/{survey_id}/participants").get_data(as_text=True)
    assert "100 av 105 visas" in html and f'href="/admin/surveys/{survey_id}/participants/import"' in html


def test_the_list_and_its_counts_read_a_fixed_number_of_statements(app, evaluator, make_survey):
    """The participants page costs the same statements however many there are and however far in:
    one page by key and one GROUP BY for the counts, never a statement per person or per status."""
    import re

    statements: list[str] = []
    engine = app.extensions["utskick"].db.engine

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    counts = {}
    for size in (3, 250):
        people = "".join(f"p{i:03}@x.example,Person {i}\r\n" for i in range(size))
        survey_id = make_survey(participants="email,name\r\n" + people)
        url = f"/admin/surveys/{survey_id}/participants"
        evaluator.get(url)  # the footer's organisation settings are read once a minute, not per page
        event.listen(engine, "before_cursor_execute", count)
        try:
            statements.clear()
            html = evaluator.get(url).get_data(as_text=True)
            counts[size, "first page"] = len(statements)
            following = re.search(r'href="([^"]*after=\d+[^"]*)">Nästa', html)
            if following:
                statements.clear()
                evaluator.get(following.group(1).replace("&amp;", "&"))
                counts[size, "next page"] = len(statements)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    # The signed-in user, the survey, the page, the counts; the next page also reads where it starts.
    assert counts == {(3, "first page"): 4, (250, "first page"): 4, (250, "next page"): 5}

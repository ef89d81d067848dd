"""``utskick subscribers import|export``."""

from __future__ import annotations

import csv
import io

from click.testing import CliRunner
from sqlalchemy import func, select

from services.cli import main
from shared.models import OutboxMail, Subscription, Suppression


def test_cli_import_without_consent_mails_each_new_row(db, cli_env, tmp_path):
    with db.transaction() as s:
        s.add(Suppression(email="studsar@exempel.se", reason="hard_bounce"))
    path = tmp_path / "lista.csv"
    path.write_bytes(
        (
            "\ufeffe-post;namn\r\n"
            "ny@exempel.se;Ny Person\r\n"
            "studsar@exempel.se;X\r\n"
            "inte-en-adress;Y\r\n"
            "ny@exempel.se;\r\n"
        ).encode()
    )
    result = CliRunner().invoke(main, ["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported: 1 (pending, confirmation mailed)" in result.output
    assert "line 3: studsar@exempel.se (suppressed)" in result.output
    assert "line 4: 'inte-en-adress'" in result.output
    assert "line 5: ny@exempel.se (same as line 2)" in result.output
    with db.sessions() as s:
        assert s.scalar(select(Subscription.status)) == "pending"
        assert list(s.scalars(select(OutboxMail.recipient))) == ["ny@exempel.se"]

    again = CliRunner().invoke(main, ["subscribers", "import", str(path), "--consented"])
    assert "imported: 0" in again.output and "line 2: ny@exempel.se (already on the list: pending)" in again.output


def test_cli_import_consented_then_export(db, cli_env, tmp_path):
    path = tmp_path / "lista.csv"
    path.write_text('email,name\nanna@exempel.se,Anna Ek\nbo@exempel.se,"Bo, med komma"\n')
    result = CliRunner().invoke(main, ["subscribers", "import", str(path), "--list", "nyhetsbrev", "--consented"])
    assert result.exit_code == 0 and "imported: 2 (active" in result.output
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 0
        assert set(s.scalars(select(Subscription.consent_method))) == {"import"}

    out = CliRunner().invoke(main, ["subscribers", "export"])
    assert out.exit_code == 0
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[0] == ["email", "name", "status", "requested_at", "confirmed_at", "unsubscribed_at"]
    assert rows[1][:3] == ["anna@exempel.se", "Anna Ek", "active"] and rows[1][4] and not rows[1][5]
    assert rows[2][:2] == ["bo@exempel.se", "Bo, med komma"]

    missing = CliRunner().invoke(main, ["subscribers", "export", "--list", "finns-inte"])
    assert missing.exit_code != 0 and "no list 'finns-inte'" in missing.output

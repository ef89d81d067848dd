"""The media library: images resized for mail, alt text required, served with long cache headers."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from shared.models import MediaFile


def _png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128)).save(out, "PNG")
    return out.getvalue()


def test_upload_resizes_and_requires_alt_text(editor_client, client, db):
    no_alt = editor_client.post("/admin/media/", data={"file": (io.BytesIO(_png(50, 50)), "bild.png"), "alt_text": " "})
    assert no_alt.status_code == 400 and "Beskriv bilden" in no_alt.get_data(as_text=True)
    not_image = editor_client.post(
        "/admin/media/", data={"file": (io.BytesIO(b"GIF89a nonsense"), "x.gif"), "alt_text": "X"}
    )
    assert not_image.status_code == 400 and "gick inte att läsa som en bild" in not_image.get_data(as_text=True)
    ok = editor_client.post(
        "/admin/media/", data={"file": (io.BytesIO(_png(3000, 1500)), "Anna Berg.PNG"), "alt_text": "Anna Berg"}
    )
    assert ok.status_code == 302
    with db.sessions() as s:
        media = s.scalar(select(MediaFile))
        assert (media.width, media.height, media.content_type) == (1200, 600, "image/jpeg")
        assert media.filename == "anna-berg.jpg"
        path = f"/media/{media.id}/{media.filename}"
    page = editor_client.get("/admin/media/").get_data(as_text=True)
    assert "![Anna Berg](" in page and f"{path})" in page  # the Markdown to paste, with the absolute address
    served = client.get(path)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert client.get("/media/999/x.jpg").status_code == 404


def test_transparent_images_stay_png(editor_client, db):
    editor_client.post(
        "/admin/media/", data={"file": (io.BytesIO(_png(40, 40, "RGBA")), "logo.png"), "alt_text": "Logotyp"}
    )
    with db.sessions() as s:
        assert s.scalar(select(MediaFile.content_type)) == "image/png"

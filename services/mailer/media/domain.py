"""Uploading images: checked and resized with Pillow (mail clients show 600 px; we keep twice that
for sharp screens), stored in the database with their alt text."""

from __future__ import annotations

import io
import re
import warnings

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import Config
from shared.models import MediaFile

MAX_UPLOAD = 10 * 1024 * 1024
MAX_WIDTH = 1200
MAX_PIXELS = 40_000_000  # bigger images are refused before they are decoded (decompression bombs)
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


class MediaError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


def _safe_name(filename: str, extension: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", filename.rsplit(".", 1)[0].lower()).strip("-")[:60] or "bild"
    return f"{stem}.{extension}"


def upload(session: Session, data: bytes, filename: str, alt_text: str) -> MediaFile:
    """Store an image, resized to at most 1200 px wide; JPEG for photos, PNG when it has transparency."""
    alt_text = " ".join((alt_text or "").split())
    if not alt_text:
        raise MediaError(_("Beskriv bilden för den som inte ser den (alternativtext)."), "alt_text")
    if len(alt_text) > 500:
        raise MediaError(_("Alternativtexten får vara högst 500 tecken."), "alt_text")
    if len(data) > MAX_UPLOAD:
        raise MediaError(_("Bilden får vara högst 10 MB."), "file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            if opened.format not in FORMATS or opened.width * opened.height > MAX_PIXELS:
                raise MediaError(_("Välj en bild i formatet JPEG, PNG, GIF eller WebP."), "file")
            opened.load()
            image: Image.Image = opened
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(_("Filen gick inte att läsa som en bild (JPEG, PNG, GIF eller WebP)."), "file") from None
    if image.width > MAX_WIDTH:
        image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)), Image.Resampling.LANCZOS)
    transparent = image.mode in ("RGBA", "LA") or "transparency" in image.info
    out = io.BytesIO()
    if transparent:
        image.save(out, format="PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True, progressive=True)
        content_type, extension = "image/jpeg", "jpg"
    media = MediaFile(
        filename=_safe_name(filename or "bild", extension),
        content_type=content_type,
        data=out.getvalue(),
        width=image.width,
        height=image.height,
        alt_text=alt_text,
    )
    session.add(media)
    session.flush()
    return media


def url(config: Config, media: MediaFile) -> str:
    """The image's address in mail (absolute: mail programs have no base address)."""
    return f"{config.mailer_url}/media/{media.id}/{media.filename}"


def markdown(config: Config, media: MediaFile) -> str:
    """What to paste into an issue."""
    alt = media.alt_text.replace("[", "(").replace("]", ")")
    return f"![{alt}]({url(config, media)})"


def library(session: Session) -> list[MediaFile]:
    return list(session.scalars(select(MediaFile).order_by(MediaFile.created_at.desc(), MediaFile.id.desc())))

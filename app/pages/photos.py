"""Sponsor page photos: proved to be an image, shrunk, and re-encoded as a fresh JPEG, so no
EXIF (GPS position, camera serial) or other metadata from the upload survives. They are kept
in the database (app/images), not on disk."""

import warnings
from io import BytesIO
from typing import IO

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

# Formats phones and cameras produce that Pillow reads; others are refused before decoding.
# (JPEG includes MPO, the multi-picture JPEG some phones write.)
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MAX_SIDE = 1200
DEFAULT_MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo is fine; more is a bomb
JPEG_QUALITY = 85

NOT_AN_IMAGE = (
    "That file isn't a photo we can read. Upload a JPEG, PNG or WebP image "
    "(on an iPhone, choose 'Most Compatible' in Settings > Camera > Formats)."
)
TOO_MANY_PIXELS = "That image is far too large in pixels. Upload a photo of up to 50 megapixels."


def size_limit_text() -> str:
    """The upload limit as people read it: '8 MB'."""
    return f"{round(current_app.config['MAX_CONTENT_LENGTH'] / 1_048_576, 1):g} MB"


class PhotoError(Exception):
    """The upload cannot be used as a photo; the message says why, for the person uploading."""


def clean_jpeg(stream: IO[bytes]) -> bytes:
    """The uploaded image, upright, at most MAX_SIDE pixels across, as a metadata-free JPEG."""
    max_pixels = current_app.config.get("PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its two bomb thresholds; refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=FORMATS) as image:
                if image.width * image.height > max_pixels:
                    raise PhotoError(TOO_MANY_PIXELS)
                image.load()  # decode now: a truncated or corrupt file fails here
                return _reencode(image)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoError(TOO_MANY_PIXELS) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise PhotoError(NOT_AN_IMAGE) from exc


def _reencode(image: Image.Image) -> bytes:
    image = ImageOps.exif_transpose(image)  # phones store "rotate me" in EXIF, which we drop
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    image = _flatten(image)
    # Rebuilt from raw pixels: nothing of the original file's metadata can come along.
    pixels = Image.frombytes("RGB", image.size, image.tobytes())
    out = BytesIO()
    pixels.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on a white background (JPEG has no transparency)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")

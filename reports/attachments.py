"""Appeal attachments: PDF, JPEG or PNG up to 10 MB, the type read from the content and matching the one
claimed, stored under PRIVATE_ROOT where no URL reaches them."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from appraisal.exceptions import DomainError, InvalidInput

ATTACHMENT_MAX = 10 * 1024 * 1024
# The file's own first bytes decide its type; the name and the browser's Content-Type only claim one.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
SUFFIX = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


class AttachmentTooLarge(DomainError):
    status_code = 413
    code = "too_large"


def _too_large() -> AttachmentTooLarge:
    return AttachmentTooLarge(
        _("The attachment is larger than 10 MB."),
        errors=[{"path": "attachment", "message": _("At most 10 MB.")}],
    )


def refuse_oversized_body(request) -> None:
    """413 before the body is read, so a 1 GB "attachment" is never first written to disk."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > ATTACHMENT_MAX + 64 * 1024:
        raise _too_large()


def sniff(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"path": "attachment", "message": message}], code="attachment")


def checked(upload) -> str:
    """The attachment's type, or a refusal: 413 over 10 MB, 400 when it is not a PDF, JPEG or PNG or is
    another type than its name or Content-Type says."""
    if upload.size > ATTACHMENT_MAX:
        raise _too_large()
    if upload.size == 0:
        raise _refuse(_("The attachment is empty."))
    upload.seek(0)
    found = sniff(upload.read(16))
    upload.seek(0)
    if found is None:
        raise _refuse(_("Attach a PDF, JPG or PNG file."))
    claimed_by_name = EXTENSIONS.get(Path(upload.name or "").suffix.lower())
    claimed_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if claimed_type == "image/jpg":
        claimed_type = "image/jpeg"
    if claimed_by_name is None or claimed_by_name != found:
        raise _refuse(_("The attachment's content is not what its name says: %(name)s.") % {"name": upload.name})
    if claimed_type not in ("", "application/octet-stream", found):
        raise _refuse(_("The attachment's content is not of the type it claims (%(type)s).") % {"type": claimed_type})
    return found


def store(upload, *, meeting_id: int, kind: str) -> dict:
    """Write the checked upload under PRIVATE_ROOT; the fields the appeal keeps of it."""
    relative = Path("appeals") / str(meeting_id) / f"{uuid.uuid4().hex}{SUFFIX[kind]}"
    target = Path(settings.PRIVATE_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    upload.seek(0)
    with open(target, "xb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return {
        "attachment_path": str(relative),
        "attachment_name": Path(upload.name).name[:200],
        "attachment_type": kind,
        "attachment_size": upload.size,
        "attachment_sha256": digest.hexdigest(),
    }


def path_of(relative: str) -> Path:
    root = Path(settings.PRIVATE_ROOT).resolve()
    target = (root / relative).resolve()
    if root not in target.parents:
        raise _refuse("bad path")  # never: the path is ours, written by store()
    return target


def discard(relative: str) -> None:
    with contextlib.suppress(FileNotFoundError, InvalidInput):
        path_of(relative).unlink()

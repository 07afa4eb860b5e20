"""An announcement's e-mail to each address, made fast: rendered and serialized once per
batch, each address's bytes that with its own recipient, Message-ID and unsubscribe link."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import EmailAlternative
from django.urls import reverse

from ..mail import absolute_url, build_email
from ..models import Announcement
from ..unsubscribe import unsubscribe_token
from .announcements import announcement_render


class Serialized:
    """What EmailMessage.message() gives a mail backend, whose bytes are made already."""

    def __init__(self, email: PrebuiltEmail) -> None:
        self.email = email

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        assert self.email.prebuilt is not None
        data = self.email.prebuilt(linesep)
        if data is None:
            return EmailMultiAlternatives.message(self.email).as_bytes(linesep=linesep)
        return data

    def get_charset(self) -> None:
        return None


class PrebuiltEmail(EmailMultiAlternatives):
    """An address's message whose bytes are the batch's prototype with this address's
    recipient, Message-ID and unsubscribe link put in (None: serialized as usual)."""

    prebuilt: Callable[[str], bytes | None] | None = None

    def message(self) -> Any:
        return super().message() if self.prebuilt is None else Serialized(self)


class Messages:
    """Each address's message. The three templates are rendered, the CSS inlined and the MIME
    message serialized once per batch, with stand-ins for the recipient, the Message-ID and
    the unsubscribe link; each address's bytes are that with its own put in. Rendering and
    serializing per address (header folding alone) cost more than the SMTP exchange itself.
    When the stand-ins don't come out verbatim (a long line made a part quoted-printable, a
    non-ASCII address), the message is serialized as usual."""

    STAND_IN = "https://unsubscribe.invalid/stand-in/"
    TO = "stand-in@unsubscribe.invalid"
    TOKEN = "__token__"

    def __init__(self, announcement: Announcement, conn: Any) -> None:
        subject, body = announcement_render(announcement)
        self.announcement = announcement
        self.proto = build_email(
            template="announcement",
            context={
                "subject": subject,
                "body": body,
                "audience_name": announcement.audience.name if announcement.audience else "",
                "unsubscribe_url": self.STAND_IN,
            },
            to=[self.TO],
            language=announcement.language,
            unsubscribe_url=self.STAND_IN,
            connection=conn,
        )
        self.sender = parseaddr(self.proto.from_email)[1]  # the envelope's
        self.message_id = self.proto.extra_headers["Message-ID"]
        self.domain = self.message_id.rpartition("@")[2].rstrip(">")
        self._serialized: dict[str, bytes | None] = {}
        # What unsubscribe_url() makes, with the token put in: its reverse() once a batch.
        self.unsubscribe_link = absolute_url(reverse("unsubscribe", args=[self.TOKEN]))

    def _template(self, linesep: str) -> bytes | None:
        if linesep not in self._serialized:
            data = self.proto.message().as_bytes(linesep=linesep)
            links = 1 + self.proto.body.count(self.STAND_IN)
            links += sum(str(content).count(self.STAND_IN) for content, _type in self.proto.alternatives)
            verbatim = (
                data.count(self.STAND_IN.encode()) == links
                and data.count(self.TO.encode()) == 1
                and data.count(self.message_id.encode()) == 1
            )
            self._serialized[linesep] = data if verbatim else None
        return self._serialized[linesep]

    def for_address(self, row_id: int, email: str) -> EmailMultiAlternatives:
        link = self._link(email)
        message_id = self._message_id(row_id)
        proto = self.proto
        message = PrebuiltEmail(
            subject=proto.subject,
            body=proto.body.replace(self.STAND_IN, link),
            from_email=proto.from_email,
            to=[email],
            headers={**proto.extra_headers, "List-Unsubscribe": f"<{link}>", "Message-ID": message_id},
            alternatives=[
                EmailAlternative(str(content).replace(self.STAND_IN, link), mimetype)
                for content, mimetype in proto.alternatives
            ],
            connection=proto.connection,
        )
        if email.isascii():
            message.prebuilt = lambda linesep: self._swap(linesep, link, email, message_id)
        return message

    def bytes_for(self, row_id: int, email: str) -> bytes | None:
        """The SMTP bytes of the address's message, without making the EmailMessage (None:
        it has to be serialized the usual way)."""
        if not email.isascii():
            return None
        return self._swap("\r\n", self._link(email), email, self._message_id(row_id))

    def _link(self, email: str) -> str:
        return self.unsubscribe_link.replace(
            self.TOKEN, unsubscribe_token("audience", f"{self.announcement.audience_id}:{email}")
        )

    def _message_id(self, row_id: int) -> str:
        # One per delivery row: a copy sent again after a crash is recognisably the same.
        return f"<announcement-{self.announcement.pk}.{row_id}@{self.domain}>"

    def _swap(self, linesep: str, link: str, email: str, message_id: str) -> bytes | None:
        data = self._template(linesep)
        if data is None:
            return None
        for old, new in ((self.STAND_IN, link), (self.TO, email), (self.message_id, message_id)):
            data = data.replace(old.encode(), new.encode())
        return data

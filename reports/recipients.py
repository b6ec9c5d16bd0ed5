"""What every genjin message shares: its recipient, its headers (a stable Message-ID, no auto-replies), the
workbook attachment's type, and a worklist split by advisor. The advisor email, the digest, the ops email
and the alerts build on this module; none of them on each other."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr
from pathlib import Path

import polars as pl

from reports.cells import safe_text

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class Recipient:
    advisor_id: str
    name: str
    email: str


def one_line(text: object) -> str:
    """Text for a header: control characters (a CR/LF would open a new header) become spaces, and what no
    header can hold is made safe (reports/cells.py)."""
    return " ".join("".join(c if c.isprintable() else " " for c in safe_text(str(text))).split())


def new_message(kind: str, to: Recipient, subject_line: str, as_of: date, sender: str) -> EmailMessage:
    """Headers every genjin message carries. The Message-ID is the same for the same as-of date, kind and
    recipient, so a message retried on a later run is recognisably the same message."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "genjin.local"
    token = hashlib.sha256(f"{kind}|{to.advisor_id}|{to.email.lower()}".encode()).hexdigest()[:16]
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = one_line(subject_line)
    msg["From"] = sender
    msg["To"] = Address(display_name=one_line(to.name), addr_spec=to.email.strip())  # quoted, never parsed
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = f"<genjin.{as_of.isoformat()}.{kind}.{token}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    return msg


def file_part(path: Path, maintype: str, subtype: str, filename: str) -> EmailMessage:
    """A file as an attachment part, made (read and base64-encoded) once and then `attach`ed to every message
    that carries it: a store's KPI report goes to each of its managers."""
    part = EmailMessage(policy=SMTP)
    part.set_content(path.read_bytes(), maintype=maintype, subtype=subtype, filename=filename)
    return part


def attach(msg: EmailMessage, part: EmailMessage) -> None:
    """`part` (`file_part`) attached to `msg`, as `EmailMessage.add_attachment` attaches a new one; the part is
    shared, not copied: writing a message reads it and changes nothing."""
    if msg.get_content_type() != "multipart/mixed":
        msg.make_mixed()
    msg.attach(part)


def attachment_name(what: str, as_of: date, whose: str, suffix: str) -> str:
    """An attachment's file name that says what and whose, as the reader saves it: `跟进计划 11-20 张秀霞.xlsx`,
    `待决定 11-20 王建国.xlsx`. What no file system takes in a name (`\\ / : * ? " < > |`) becomes `_`, line
    breaks and control characters a space."""
    name = re.sub(r'[\\/:*?"<>|]', "_", one_line(f"{what} {as_of:%m-%d} {whose}"))
    return name + suffix


def by_advisor(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """`frame` split once by advisor_id, each part in the frame's order (what a filter per advisor gives)."""
    return {key: part for (key,), part in frame.partition_by("advisor_id", as_dict=True, maintain_order=True).items()}

"""The ops email (issue #13): one short message per night to the `ops_email` address — files loaded, held,
duplicate and quarantined (with why), rows rejected per file with the rejects workbooks attached, and the
night's warnings. flows/night_mail.py sends none on a clean night, unless `ops_email_always` asks for it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from adapters import mail
from reports.recipients import XLSX, Recipient, new_message
from reports.templating import render
from schemas.columns import kind_label
from schemas.vocab import FILE_STATUS_LABELS


def is_clean(files: Sequence[Mapping[str, Any]], held: Sequence[Mapping[str, Any]],
             warnings: Sequence[Mapping[str, Any]]) -> bool:
    """Nothing for ops to act on: every file loaded whole, none held, no warning."""
    return not held and not warnings and all(f["status"] == "loaded" and not f["rows_rejected"] for f in files)


def ops_message(files: Sequence[Mapping[str, Any]], held: Sequence[Mapping[str, Any]],
                warnings: Sequence[Mapping[str, Any]], rejects: Sequence[Path], to: Recipient, as_of: date,
                sender: str) -> EmailMessage:
    rows = [dict(f, why=f.get("why", ""), rows_warned=f.get("rows_warned", 0), kind_zh=kind_label(f.get("kind")),
                 status_zh=FILE_STATUS_LABELS.get(f["status"], f["status"])) for f in files]
    counts = {s: sum(1 for f in files if f["status"] == s) for s in FILE_STATUS_LABELS}
    rejected = sum(f["rows_rejected"] for f in files)
    context = {
        "as_of": as_of.isoformat(), "files": rows, "held": list(held), "warnings": list(warnings),
        "counts": counts, "rejected": rejected, "attachments": [p.name for p in rejects],
        "rejected_files": [f for f in rows if f["rows_rejected"]],
        "warned_files": [f for f in rows if f.get("rows_warned")],
        "clean": is_clean(files, held, warnings),
    }
    parts = [f"{len(files)} 个文件", f"{len(held)} 个暂缓", f"{counts['duplicate']} 个重复",
             f"{counts['quarantined']} 个隔离", f"{rejected} 行被拒", f"{len(warnings)} 条提醒"]
    subject = f"【genjin 运行情况】{as_of.isoformat()} · " + " · ".join(parts)
    msg = new_message("ops", to, subject, as_of, sender)
    msg.set_content(render("ops_email.txt.j2", **context))
    msg.add_alternative(render("ops_email.html.j2", **context), subtype="html")
    for path in rejects:
        msg.add_attachment(path.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=path.name)
    return msg


def ops_mail(files: Sequence[Mapping[str, Any]], held: Sequence[Mapping[str, Any]],
             warnings: Sequence[Mapping[str, Any]], rejects: Sequence[Path], address: str, as_of: date,
             sender: str) -> mail.Outgoing:
    """The night's ops email to `address`, as `outbox/ops.eml`. The night's state is in its ledger key: a
    re-run that finds the same is not mailed again, one that finds more is."""
    state = json.dumps([files, held, warnings], ensure_ascii=False, sort_keys=True, default=str)
    to = Recipient(f"ops-{hashlib.sha256(state.encode()).hexdigest()[:12]}", "genjin 运维 / ops", address)
    return mail.Outgoing("ops", to.advisor_id, address, as_of,
                         ops_message(files, held, warnings, rejects, to, as_of, sender), "ops.eml")

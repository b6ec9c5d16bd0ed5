"""flows/night_mail.py: the night's advisor emails and digests to the outbox (nothing sent without `send`), each
advisor's only to them, the sender from the mail settings, the latest roster row counting, no price anywhere."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from adapters.mail import MailSettings
from flows.night_mail import deliver
from policy.model import Policy
from tests.conftest import AS_OF
from tests.mail_night import NO_MAIL, PRICE, ROSTER, Night, bodies, night_frames, parse, write_night


def test_deliver_without_send_writes_the_outbox(night: Night, policy: Policy) -> None:
    result = deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, NO_MAIL,
                     policy)
    assert result == {"written": 3, "sent": 0, "already_sent": 0, "failed": [], "without_email": ["S4", "V1"]}
    outbox = night.run_dir / "outbox"
    assert sorted(p.relative_to(outbox).as_posix() for p in outbox.rglob("*.eml")) == [
        "M1.eml", "S1.eml", "digest/M1.eml",
    ]
    digest = parse((outbox / "digest" / "M1.eml").read_bytes())
    assert digest["Subject"].startswith("【团队日报】王经理 11-23：逾期 ")
    assert digest["From"] == "genjin <genjin@localhost>"
    assert "钱八" in bodies(digest)  # the advisor with a broken address is named for the manager
    assert not list(night.run_dir.parent.rglob("*.jsonl"))  # no ledger without --send


def test_the_sender_comes_from_the_settings(night: Night, policy: Policy) -> None:
    settings = MailSettings(sender="某某4S店 <crm@dealer.cn>")
    deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, settings, policy)
    msg = parse((night.run_dir / "outbox" / "S1.eml").read_bytes())
    assert msg["From"] == "某某4S店 <crm@dealer.cn>"


def test_each_advisor_gets_only_their_own_customers(night: Night, policy: Policy) -> None:
    deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, NO_MAIL, policy)
    outbox = night.run_dir / "outbox"
    s1, m1 = parse((outbox / "S1.eml").read_bytes()), parse((outbox / "M1.eml").read_bytes())
    assert "陈先生" in bodies(s1) and "孙先生" not in bodies(s1) and "7822" not in bodies(s1)
    assert "孙先生" in bodies(m1) and "陈先生" not in bodies(m1) and "王先生" not in bodies(m1)
    assert "吴先生" not in bodies(s1) + bodies(m1)


def test_price_appears_in_no_email_and_no_attachment(night: Night, policy: Policy) -> None:
    deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, NO_MAIL, policy)
    for path in (night.run_dir / "outbox").rglob("*.eml"):
        msg = parse(path.read_bytes())
        texts = [bodies(msg)]
        for part in msg.iter_attachments():
            payload = part.get_payload(decode=True)
            if part.get_filename().endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(payload)) as z:
                    texts += [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")]
            else:
                texts.append(payload.decode("utf-8"))
        assert all(PRICE not in t and "287,600" not in t for t in texts), path


def test_the_latest_roster_row_of_an_advisor_counts(tmp_path: Path, policy: Policy) -> None:
    roster = [*ROSTER[:4], ROSTER[1] | {"email": "zhangsan@dealer.cn"}]
    night = write_night(tmp_path / "2026-11-23", night_frames(policy, roster), policy)
    result = deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, False, NO_MAIL,
                     policy)
    assert result["written"] == 3
    assert parse((night.run_dir / "outbox" / "S1.eml").read_bytes())["To"] == "张三 <zhangsan@dealer.cn>"


def test_sending_needs_a_ledger(night: Night, policy: Policy) -> None:
    with pytest.raises(ValueError, match="ledger"):
        deliver(night.worklist, night.advisors, night.workbooks, night.run_dir, AS_OF, None, True, NO_MAIL, policy)

"""What ops are told when a night or an intraday pick-up did not end well (issue #27): one short message, by
email and by the ops group robot — which night, which stage, the reason in Chinese and English, what to do,
and what the advisors did or did not get. flows/ops_alert.py gathers the facts (`Failure`) and sends; this
module only words them. No traceback and no customer data: the reason is one line, the list of what did not
go out names addresses and stores only."""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from adapters import mail
from adapters.failures import one_line
from adapters.folders import FolderError
from adapters.lock import Busy
from adapters.robots import GroupMessage
from policy.model import PolicyError
from reports.recipients import Recipient, new_message
from reports.templating import render

Outcome = Literal["failed", "crashed", "cancelled", "timed_out", "partial", "missed"]
Kind = Literal["nightly", "intraday"]

STAGES = {  # flows' stage names (adapters/run_marker.py) in ops' words
    "check": ("检查文件夹和策略", "checking the folders and the policy"),
    "wait": ("等待另一个运行结束", "waiting for another run to finish"),
    "read": ("读取文件", "reading the files"),
    "store": ("入库", "storing the rows"),
    "worklist": ("生成任务清单", "building the worklists"),
    "write": ("写出清单和报表", "writing the worklists and reports"),
    "deliver": ("发送邮件和群消息", "sending the emails and group posts"),
    "publish": ("发布输出", "publishing the outputs"),
    "pick-up": ("取日间文件", "picking up the day's files"),
    "alerts": ("计算提醒", "working out the alerts"),
    "send": ("发送提醒", "sending the alerts"),
}
RUN_ZH = {"nightly": "夜间运行", "intraday": "日间运行"}
RUN_EN = {"nightly": "nightly run", "intraday": "intraday run"}
TITLES = {  # outcome → (Chinese, English) of the subject and the first line; {run} is the kind of run
    "failed": ("{run}失败", "the {run} failed"),
    "crashed": ("{run}中断", "the {run} was cut off"),
    "cancelled": ("{run}被取消", "the {run} was cancelled"),
    "timed_out": ("{run}超时", "the {run} timed out"),
    "partial": ("{run}未全部送达", "the {run} did not deliver everything"),
    "missed": ("{run}没有运行", "no {run} completed"),
}


@dataclass(frozen=True)
class Reason:
    zh: str
    en: str
    todo_zh: str
    todo_en: str


@dataclass(frozen=True)
class Failure:
    """The facts of one run that ended badly, as flows/ops_alert.py found them."""

    kind: Kind
    outcome: Outcome
    night: str  # "2026-11-20" or, intraday, "2026-11-20 10:15"
    run_name: str  # nightly-2026-11-20
    reason: Reason
    stage: str | None = None  # a key of STAGES
    advisors_sent: int = 0  # advisor emails the sent ledger has as sent for the night
    digests_sent: int = 0
    undelivered: Sequence[str] = field(default_factory=tuple)  # "to / store: why", one per message
    log: str = ""  # where the full log is: the Prefect run's page, or a file
    send: bool = True  # the run was sending (`--send`); without it nothing goes out anyway
    run_id: str = ""  # the Prefect flow run's id: a failed re-run of the same night is told again

    @property
    def title(self) -> tuple[str, str]:
        zh, en = TITLES[self.outcome]
        return zh.format(run=RUN_ZH[self.kind]), en.format(run=RUN_EN[self.kind])

    @property
    def stage_text(self) -> tuple[str, str]:
        if self.stage is None:
            return "未知（运行没有记下阶段）", "unknown (the run recorded no stage)"
        return STAGES.get(self.stage, (self.stage, self.stage))

    @property
    def advisors(self) -> tuple[str, str]:
        """What the advisors did or did not get, in Chinese and English."""
        if self.kind == "intraday":
            return ("这次运行的新线索提醒没有发出；下一次日间运行会补发。",
                    "this run's lead alerts did not go out; the next intraday run sends them.")
        if self.outcome == "partial":
            return (f"清单和报表已写好；已发出 {self.advisors_sent} 位顾问的计划、{self.digests_sent} 份经理汇总，"
                    f"另有 {len(self.undelivered)} 项没有送达（见下）。",
                    f"the worklists and reports were written; {self.advisors_sent} advisors got their plan and "
                    f"{self.digests_sent} managers their digest, {len(self.undelivered)} deliveries did not go out "
                    f"(listed below).")
        if not self.send:
            return "这次运行没有开启发送（--send），顾问和经理都没有收到邮件。", \
                "this run was not sending (--send): no advisor or manager got an email."
        if self.outcome == "missed" or not (self.advisors_sent or self.digests_sent):
            return "今天顾问没有收到计划邮件，经理没有收到汇总。", \
                "the advisors got no plan today and the managers no digest."
        return (f"停下之前已有 {self.advisors_sent} 位顾问收到计划、{self.digests_sent} 位经理收到汇总，其余没有收到；"
                f"重新运行只补发没收到的。",
                f"{self.advisors_sent} advisors got their plan and {self.digests_sent} managers their digest before "
                f"it stopped; the others got nothing — a re-run sends only what is missing.")

    @property
    def not_delivered(self) -> list[str]:
        return by_reason(self.undelivered)

    @property
    def key(self) -> str:
        """What the sent ledgers remember this message by (one per run; per day and cause for the intraday runs,
        which repeat every few minutes)."""
        cause = hashlib.sha256(f"{self.outcome}|{self.stage}|{self.reason.en}".encode()).hexdigest()[:10]
        run = self.night.split(" ")[0] + f"|{cause}" if self.kind == "intraday" else f"{self.run_name}|{self.run_id}"
        return f"failure|{self.kind}|{run}"


def by_reason(undelivered: Sequence[str]) -> list[str]:
    """run.json's `undelivered` lines ("who: why") by reason: one line per reason, then who (at most 20 named) —
    a mail server that is down is one line, not one per advisor."""
    found: dict[str, list[str]] = {}
    for line in undelivered:
        who, _, why = line.partition(": ")  # "s1@dealer.cn: 无法连接…": an address holds no ": "
        found.setdefault(why, []).append(who)
    return [f"{why} — {len(who)} 项 / {len(who)}: {', '.join(who[:20])}{' …' if len(who) > 20 else ''}"
            for why, who in found.items()]


# --- the reason -------------------------------------------------------------------------------------------

RERUN_ZH = "改好后重新运行 genjin run --as-of {night} --send（在 Prefect 里重跑这次运行也可）：只补发还没发出的。"
RERUN_EN = "then run genjin run --as-of {night} --send again (or retry this run in Prefect): it sends only what " \
           "is missing."
OS_ERRORS = {  # errno → what it means for ops, Chinese and English
    errno.ENOSPC: ("磁盘已满", "the disk is full"),
    errno.EACCES: ("没有读写权限", "permission denied"),
    errno.EPERM: ("没有读写权限", "permission denied"),
    errno.EROFS: ("磁盘是只读的", "the disk is read-only"),
    errno.ENOTDIR: ("路径中有一段不是文件夹", "part of a path is not a folder"),
    errno.ENOENT: ("文件或文件夹不存在", "a file or folder does not exist"),
    errno.EIO: ("磁盘读写出错", "a disk read or write failed"),
}


def explain(outcome: Outcome, error: BaseException | None = None, message: str | None = None,
            night: str = "", kind: Kind = "nightly") -> Reason:
    """The reason and what to do: from the error when the run's own process tells (`error`), else from the
    Prefect state's message (`message`, one line)."""
    detail = one_line(error) if error is not None else " ".join((message or "").split())[:300]
    again_zh, again_en = (RERUN_ZH.format(night=night), RERUN_EN.format(night=night)) if kind == "nightly" else (
        "下一次日间运行会自动再试；如果一直失败，请查看完整日志。", "the next intraday run tries again; if it keeps "
        "failing, read the full log.")
    if outcome == "crashed":
        return Reason("运行进程意外结束（断电、内存不足或进程被结束）" + (f"：{detail}" if detail else ""),
                      "the run's process ended unexpectedly (power cut, out of memory, or killed)"
                      + (f": {detail}" if detail else ""),
                      "确认 genjin 所在的机器正常（电源、内存、磁盘）。" + again_zh,
                      "check the machine genjin runs on (power, memory, disk); " + again_en)
    if outcome == "cancelled":
        return Reason("有人在 Prefect 里取消了这次运行", "someone cancelled this run in Prefect",
                      "如果不是有意取消：" + again_zh, "if that was not meant: " + again_en)
    if outcome == "timed_out" or isinstance(error, TimeoutError):
        return Reason(f"运行超过时限仍未结束，已被停止：{detail}",
                      f"the run did not finish in time and was stopped: {detail}",
                      "查看完整日志里最后一个阶段卡在哪里。" + again_zh,
                      "read the full log for the stage it was stuck in; " + again_en)
    if outcome == "missed":
        return Reason("在设定的时间内没有一次夜间运行完成", "no nightly run completed within the set time",
                      "确认 genjin 所在的机器开着、genjin serve 在运行（Prefect 服务器也在运行），"
                      "然后补跑缺的那一晚：genjin run --as-of 日期 --send。",
                      "check that the machine is on and genjin serve (and the Prefect server) are running, then "
                      "run the missing night: genjin run --as-of DATE --send.")
    if isinstance(error, FolderError | PolicyError | Busy):  # our own errors say it in both languages
        return Reason(str(error).strip(), "", *_todo(error, again_zh, again_en))
    if isinstance(error, MemoryError):
        return Reason("内存不足", "out of memory", "关掉同一台机器上的其他程序，或加内存。" + again_zh,
                      "close other programs on the machine or add memory; " + again_en)
    if isinstance(error, OSError):
        zh, en = OS_ERRORS.get(error.errno or 0, ("读写文件出错", "a file could not be read or written"))
        where = f"：{error.filename}" if error.filename else ""
        return Reason(f"{zh}{where}", f"{en}: {detail}", "处理好磁盘或文件夹的问题。" + again_zh,
                      "fix the disk or folder; " + again_en)
    if error is None and not detail:
        return Reason("原因不明", "unknown reason", "查看完整日志。" + again_zh, "read the full log; " + again_en)
    return Reason(f"程序出错：{detail}", f"an error stopped it: {detail}",
                  "把完整日志发给 IT。" + again_zh, "send the full log to IT; " + again_en)


def _todo(error: BaseException, again_zh: str, again_en: str) -> tuple[str, str]:
    if isinstance(error, FolderError):
        return ("改正文件夹设置（genjin settings 会逐项检查）。" + again_zh,
                "fix the folder settings (genjin settings checks each one); " + again_en)
    if isinstance(error, PolicyError):
        return "改正策略文件。" + again_zh, "fix the policy file; " + again_en
    return ("等另一个运行结束（或查明是谁在运行）。" + again_zh,
            "wait for the other run to end (or find out who runs it); " + again_en)


def partial_reason(undelivered: int, night: str) -> Reason:
    return Reason(f"清单和报表已写好，但有 {undelivered} 项没有送达（邮件服务器或群机器人出了问题）",
                  f"the outputs were written, but {undelivered} deliveries did not go out (the mail server or a "
                  f"group robot failed)",
                  "检查邮件服务器和群机器人的设置与网络。" + RERUN_ZH.format(night=night),
                  "check the mail server and the group robots (settings, network); " + RERUN_EN.format(night=night))


# --- the message ------------------------------------------------------------------------------------------

def _context(failure: Failure) -> dict[str, object]:
    (title_zh, title_en), (stage_zh, stage_en), (advisors_zh, advisors_en) = (
        failure.title, failure.stage_text, failure.advisors)
    return {"f": failure, "title_zh": title_zh, "title_en": title_en, "stage_zh": stage_zh, "stage_en": stage_en,
            "advisors_zh": advisors_zh, "advisors_en": advisors_en, "reason": failure.reason}


def subject(failure: Failure) -> str:
    zh, _ = failure.title
    where = f" · 停在：{failure.stage_text[0]}" if failure.stage and failure.outcome != "partial" else ""
    return f"【genjin】{failure.night} {zh}{where}"


def failure_mail(failure: Failure, address: str, sender: str) -> mail.Outgoing:
    """The message as an email to ops' `address` (text and HTML, no attachment)."""
    to = Recipient(failure.key, "genjin 运维 / ops", address)
    night = date.fromisoformat(failure.night.split(" ")[0])
    msg = new_message("failure", to, subject(failure), night, sender)
    msg.set_content(render("failure_email.txt.j2", **_context(failure)))
    msg.add_alternative(render("failure_email.html.j2", **_context(failure)), subtype="html")
    return mail.Outgoing("failure", failure.key, address, night, msg, f"{failure.run_name}.eml")


def failure_post(failure: Failure, store: str = "ops") -> GroupMessage:
    """The same message for the ops group robot (markdown, and plain text)."""
    text = render("failure_email.txt.j2", **_context(failure)).strip()
    lines = text.splitlines()
    markdown = "\n\n".join([f"**{lines[0]}**", *(line for line in lines[1:] if line.strip())])
    return GroupMessage(key=failure.key, store=store, kind="failure", title=subject(failure), markdown=markdown,
                        text=text)


def undelivered(emails: Mapping[str, Any], groups: Mapping[str, Any] | None) -> list[str]:
    """What a night that sends did not get out, one line each: the advisors' and managers' emails, the ops
    email, the stores' group posts (and robots whose variables are not set)."""
    lines = [f"{f['to']}: {f['error']}" for f in emails.get("failed", [])]
    ops = emails.get("ops") or {}
    lines += [f"运维邮件 ops email {ops.get('to')}: {f['error']}" for f in ops.get("failed", [])]
    groups = groups or {}
    lines += [f"{p['store']} 群消息 group post ({p['kind']}): {p['error']}" for p in groups.get("failed", [])]
    lines += [f"群机器人 group robot {m}" for m in groups.get("missing", [])]
    return lines

"""The input contract of SPEC §2 as data: for each input kind, its canonical columns, their header aliases,
how a cell is parsed, and which columns are required.

Aliases are matched after `normalise_header` (case, spaces, full-width characters and a trailing unit such
as `（元）` are ignored), so only one spelling of each alias is listed here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# where a row came from, as genjin numbers it: the row as Excel shows it, the sheet's place in its file, the
# file's place in the history (adapters/history.py) — together a total order of the history's rows
ROW = "__row"
SHEET_N = "__sheet_n"
ORDER = "__order"


class Parse(StrEnum):
    """How a cell's text becomes a typed value (see schemas/parsing.py)."""

    TEXT = "text"
    ID = "id"  # an identifier, often all digits: text, with the numbers Excel mangled caught (schemas/parsing.py)
    DATETIME = "datetime"
    DATE = "date"
    PHONE = "phone"
    BOOL = "bool"
    AMOUNT = "amount"
    GRADE = "grade"
    ROLE = "role"
    VIN = "vin"
    DECISION = "decision"
    ADVISOR_REF = "advisor_ref"


@dataclass(frozen=True)
class Col:
    name: str
    aliases: tuple[str, ...] = ()
    parse: Parse = Parse.TEXT
    required: bool = False
    year_from: str | None = None  # a date typed without its year is read in the year nearest this column's date


@dataclass(frozen=True)
class Kind:
    """One input kind: its columns and the groups of which at least one column must be present and filled."""

    name: str
    label: str
    columns: tuple[Col, ...]
    one_of: tuple[tuple[str, ...], ...] = ()
    dated_by: str | None = None  # when a row happened: a row dated after the night is not yet known (SPEC §6a)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


_UNIT = re.compile(r"[(\[][^()\[\]]{1,8}[)\]]$")  # a trailing unit: （元）, (分), [km], （%）
_DROP = re.compile(r"[\s_\-*✱:：]+")


def normalise_header(text: object) -> str:
    """`成交价（元） ` → `成交价`, `跟进时间（分）` → `跟进时间`;
    `Lead ID` → `leadid`; full-width → half-width; case-insensitive."""
    s = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    s = _UNIT.sub("", s.replace(" ", ""))
    return _DROP.sub("", s)


LEADS = Kind(
    "leads",
    "线索",
    (
        Col("lead_id", ("线索编号", "客户编号", "线索id", "leadno"), Parse.ID, True),
        Col("created_at", ("留资时间", "创建时间", "建档日期", "建档时间", "createdate"), Parse.DATETIME, True),
        Col("customer_name", ("客户姓名", "姓名", "客户名称", "name"), required=True),
        Col("phone", ("联系电话", "手机", "手机号", "手机号码", "电话", "mobile"), Parse.PHONE, True),
        Col("store", ("门店", "经销商", "门店名称"), required=True),
        Col("advisor_id", ("销售顾问工号", "顾问编号", "顾问工号", "销售顾问编号", "advisor"), Parse.ID, True),
        Col("source", ("客户来源", "线索来源", "渠道", "来源渠道")),
        Col("model_interest", ("意向车型",)),
        Col("budget", ("购车预算", "预算")),
        Col("purchase_timeframe", ("预计购车时间", "购车紧急程度", "预购时间", "timeframe")),
        Col("grade", ("客户级别", "意向级别", "客户等级"), Parse.GRADE),
        Col("status", ("客户状态", "跟进状态", "线索状态")),
        Col("lost_reason", ("战败原因",)),
        Col("competitor_model", ("对比车型", "竞品车型")),
        Col("referrer_phone", ("推荐人电话", "推荐人手机"), Parse.PHONE),
        Col("birthday", ("生日", "出生日期"), Parse.DATE),
        Col("gender", ("性别",)),
        Col("wechat", ("微信", "微信号")),
        Col("email", ("邮箱", "电子邮箱")),
        Col("do_not_contact", ("勿扰", "拒绝联系", "免打扰", "dnc"), Parse.BOOL),
        Col("decision_maker", ("决策人",)),
        Col("concerns", ("主要顾虑",)),
        Col("tags", ("标签",)),
    ),
    dated_by="created_at",
)

FOLLOWUPS = Kind(
    "followups",
    "跟进记录",
    (
        Col("lead_id", ("线索编号", "客户编号", "线索id"), Parse.ID),
        Col("phone", ("联系电话", "手机", "手机号", "手机号码", "电话", "mobile"), Parse.PHONE),
        Col("advisor_id", ("销售顾问工号", "顾问编号", "顾问工号", "跟进人工号", "advisor"), Parse.ID, True),
        Col("contacted_at", ("跟进时间", "联系时间", "跟进日期", "contacttime"), Parse.DATETIME, True),
        Col("channel", ("跟进方式", "联系方式")),
        Col("outcome", ("跟进结果", "结果")),
        Col("summary", ("沟通内容", "跟进内容", "备注", "note")),
        Col("next_followup_at", ("下次跟进时间", "下次跟进日期", "计划跟进时间"), Parse.DATETIME,
            year_from="contacted_at"),
        Col("purchase_timeframe", ("预计购车时间", "购车紧急程度", "timeframe")),
        Col("grade", ("客户级别", "意向级别", "客户等级"), Parse.GRADE),
        Col("entry", ("录入方式",)),  # `returned_workbook` for the rows of an advisor's workbook dropped back
    ),
    one_of=(("lead_id", "phone"),),
    dated_by="contacted_at",
)

SALES = Kind(
    "sales",
    "销售订单",
    (
        Col("order_id", ("订单号", "合同号", "订单编号"), Parse.ID, True),
        Col("phone", ("联系电话", "手机", "手机号", "手机号码", "电话", "mobile"), Parse.PHONE, True),
        Col("customer_name", ("客户姓名", "姓名", "客户名称", "name"), required=True),
        Col("advisor_id", ("销售顾问工号", "顾问编号", "顾问工号", "advisor"), Parse.ID, True),
        Col("ordered_at", ("订车日期", "下订日期", "订单日期", "orderdate"), Parse.DATETIME, True),
        Col("store", ("门店", "经销商", "门店名称"), required=True),
        Col("lead_id", ("线索编号", "客户编号"), Parse.ID),
        Col("vin", ("车架号", "vin码", "车辆识别代号"), Parse.VIN),
        Col("model", ("车型",)),
        Col("color", ("颜色", "车身颜色")),
        Col("planned_delivery_at", ("预计交车日期", "计划交车日期"), Parse.DATETIME),
        Col("delivered_at", ("交车日期", "提车日期", "实际交车日期"), Parse.DATETIME),
        Col("status", ("订单状态",)),
        Col("price", ("成交价", "成交价格", "车价"), Parse.AMOUNT),
        Col("referrer_phone", ("推荐人电话", "推荐人手机"), Parse.PHONE),
        Col("birthday", ("生日", "出生日期"), Parse.DATE),
    ),
    dated_by="ordered_at",
)

SERVICE = Kind(
    "service",
    "售后工单",
    (
        Col("ro_id", ("工单号", "维修单号", "工单编号", "rono"), Parse.ID, True),
        Col("visited_at", ("进厂日期", "到店日期", "进厂时间", "visitdate"), Parse.DATETIME, True),
        Col("store", ("门店", "经销商", "门店名称"), required=True),
        Col("vin", ("车架号", "vin码", "车辆识别代号"), Parse.VIN),
        Col("phone", ("联系电话", "手机", "手机号", "手机号码", "电话", "mobile"), Parse.PHONE),
        Col("plate", ("车牌号", "车牌")),
        Col("customer_name", ("客户姓名", "姓名", "客户名称", "name")),
        Col("service_type", ("维修类型", "工单类型", "业务类型")),
        Col("amount", ("金额", "结算金额", "工单金额"), Parse.AMOUNT),
        Col("mileage", ("里程", "进厂里程", "行驶里程"), Parse.AMOUNT),
        Col("service_advisor_id", ("服务顾问工号", "服务顾问编号", "服务顾问"), Parse.ID),
        Col("csat", ("满意度", "客户满意度", "满意度评分"), Parse.AMOUNT),
        Col("complaint", ("是否投诉", "投诉"), Parse.BOOL),
        Col("complaint_text", ("投诉内容",)),
    ),
    one_of=(("vin", "phone"),),
    dated_by="visited_at",
)

ADVISORS = Kind(
    "advisors",
    "顾问名单",
    (
        Col("advisor_id", ("顾问编号", "工号", "员工编号", "顾问工号"), Parse.ID, True),
        Col("name", ("姓名", "员工姓名", "顾问姓名"), required=True),
        Col("store", ("门店", "经销商", "门店名称"), required=True),
        Col("role", ("岗位", "职位", "角色"), Parse.ROLE, True),
        Col("email", ("邮箱", "电子邮箱", "mail")),
        Col("mobile", ("手机", "手机号", "手机号码", "联系电话", "mobile")),  # for an @-mention in the store's group
        Col("manager_id", ("上级工号", "上级编号", "经理工号"), Parse.ID),
        Col("active", ("在职", "是否在职", "在职状态"), Parse.BOOL),
        Col("daily_capacity", ("每日上限", "日上限"), Parse.AMOUNT),
    ),
)

# the manager's review workbook filled in and dropped back (reports/review.py, transforms/decisions.py); a row
# marked 整批 decides for many customers: 原顾问's whole book (改派), or its leads idle past 未跟进天数 (战败)
DECISIONS = Kind(
    "decisions",
    "经理决定",
    (
        Col("customer_id", ("客户编号", "客户id"), Parse.ID),
        Col("bulk", ("整批", "批量"), Parse.BOOL),
        Col("decision", ("决定", "经理决定", "处理决定"), Parse.DECISION, True),
        Col("decided_at", ("生效日期", "决定日期"), Parse.DATE, True),
        Col("from_advisor_id", ("原顾问工号", "现顾问工号"), Parse.ADVISOR_REF),
        Col("new_advisor_id", ("改派给", "接手顾问", "新顾问工号"), Parse.ADVISOR_REF),
        Col("lead_id", ("线索编号",), Parse.ID),
        Col("lost_reason", ("战败原因",)),
        Col("decided_by", ("经理工号", "决定人工号"), Parse.ID),
        Col("note", ("经理备注", "决定说明")),
        Col("idle_days", ("未跟进天数", "超过天数未跟进"), Parse.AMOUNT),
    ),
    one_of=(("customer_id", "bulk"),),
)

KINDS: tuple[Kind, ...] = (LEADS, FOLLOWUPS, SALES, SERVICE, ADVISORS, DECISIONS)
KIND_BY_NAME = {k.name: k for k in KINDS}


def kind_label(kind: str | None) -> str:
    """A file's kind as ops and managers read it: `leads` → 线索, `leads,followups` → 线索、跟进记录; — for none."""
    return "、".join(KIND_BY_NAME[k].label if k in KIND_BY_NAME else k for k in (kind or "").split(",") if k) or "—"


def alias_table(kind: Kind) -> dict[str, str]:
    """Normalised header → canonical column, the canonical name itself included."""
    table: dict[str, str] = {}
    for col in kind.columns:
        for alias in (col.name, *col.aliases):
            table.setdefault(normalise_header(alias), col.name)
    return table

"""Value vocabularies of SPEC §2: the words ops staff type, mapped to what genjin understands."""

from __future__ import annotations

TRUE_WORDS = ("是", "y", "yes", "true", "1", "√", "✓", "✔", "t", "有", "在职")
FALSE_WORDS = ("否", "n", "no", "false", "0", "×", "✗", "f", "无", "离职", "")

ROLE_WORDS: dict[str, str] = {
    "sales": "sales",
    "销售顾问": "sales",
    "销售": "sales",
    "service": "service",
    "服务顾问": "service",
    "售后顾问": "service",
    "manager": "manager",
    "经理": "manager",
    "店总": "manager",
    "总经理": "manager",
    "销售经理": "manager",
    "服务经理": "manager",
    "售后经理": "manager",
}

# typed grades a CRM exports: S/A/B/C/D (default), O/H (Honda-style). Which ones count, and in what order, is
# the policy's `grades.order`; a typed grade the policy does not list is ignored there.
GRADES = ("S", "A", "B", "C", "D", "O", "H")

# what a night did with a file (run.json's `status`), as ops and managers read it
FILE_STATUS_LABELS = {"loaded": "已载入", "duplicate": "重复，未载入", "quarantined": "已隔离"}

LEAD_STATUSES = ("线索", "意向", "谈判", "成交", "战败")
OUTCOMES = ("已接通", "未接通", "预约到店", "已到店", "已试驾", "已报价", "下订", "战败", "暂不考虑")
CHANNELS = ("电话", "微信", "短信", "到店", "试驾", "活动")
ORDER_STATUSES = ("已订车", "已交车", "已退订")
SERVICE_TYPES = ("首保", "定保", "保养", "维修", "钣喷", "索赔", "保险")

# the manager's decisions in the review workbook (reports/review.py): the drop-down shows the first word of each
DECISION_LABELS: dict[str, str] = {
    "reassign": "改派",
    "lost": "战败",
    "do_not_contact": "勿扰",
    "keep": "保持",
}
DECISION_WORDS: dict[str, str] = {
    **{label: code for code, label in DECISION_LABELS.items()},
    **{code: code for code in DECISION_LABELS},
    "改派他人": "reassign", "转给": "reassign", "转交": "reassign", "换人": "reassign",
    "标记战败": "lost", "战败关闭": "lost",
    "不再联系": "do_not_contact", "拒绝联系": "do_not_contact", "免打扰": "do_not_contact",
    "do not contact": "do_not_contact",
    "保留": "keep", "不变": "keep", "维持": "keep", "继续跟进": "keep",
}

"""The dealership's words for stages and task types, as advisors read them (worklist reasons, workbooks, mail)."""

from __future__ import annotations

STAGE_LABELS = {"lead": "线索", "intent": "意向", "negotiating": "谈判", "dormant": "暂不考虑",
                "won": "成交", "owner": "保有", "lost": "战败"}

TASK_LABELS = {
    "complaint": "投诉处理",
    "first_contact": "首次联系",
    "followup": "意向跟进",
    "delivery_confirm": "交车确认",
    "post_delivery_d1": "交车1天回访",
    "post_delivery_d3": "交车3天回访",
    "post_delivery_d7": "交车7天回访",
    "post_delivery_d30": "交车30天回访",
    "post_service_revisit": "维修后回访",
    "first_maintenance": "首保提醒",
    "win_back": "流失召回",
    "care_call": "关怀回访",
    "trade_in": "置换邀约",
    "birthday": "生日关怀",
    "anniversary": "购车周年",
}

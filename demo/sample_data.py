"""Deterministic sample drop folder for ``genjin demo``.

``generate(drop_dir, as_of=..., seed=..., size=...)`` writes what a small dealer group's ops staff would drop
on one day: the advisor roster, one lead export per store (with a merged title row above the header), the
follow-up log as a GBK CSV (as Chinese Excel saves it), the sales orders and the service repair orders.

Everything comes from ``random.Random`` seeded by ``seed`` and the store code (never the global generator,
never the clock), so the same arguments give the same cell values and a byte-identical CSV. ``size`` scales
the number of stores (3 per unit); every store gets the same volumes, so the files grow linearly.

Besides random history, every store gets planted cases relative to ``as_of`` (D) so that each task type of
SPEC §6 shows up on D: first contacts from D-1 and D, follow-ups due from 1/3/7-day intervals and from an
advisor's planned date, deliveries on D-1/D-3/D-7/D-30 (and D-90, D-150, one year ago), a planned delivery on
D+1, a service revisit, a complaint, an inactive advisor and an advisor missing from the roster who both still
own open leads, and a few dirty-but-valid cells (a phone with spaces, ``2025年3月5日`` and
``2025/3/5 14:30`` texts).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

__all__ = [
    "ADVISOR_HEADERS",
    "FOLLOWUP_HEADERS",
    "LEAD_HEADERS",
    "SALES_HEADERS",
    "SERVICE_HEADERS",
    "generate",
]

# --------------------------------------------------------------------------------------------------
# File names and header rows (the reader matches these texts)
# --------------------------------------------------------------------------------------------------

ADVISORS_FILE = "顾问名单.xlsx"
LEADS_FILE = "线索导出_{code}.xlsx"
FOLLOWUPS_FILE = "跟进记录.csv"
SALES_FILE = "销售订单.xlsx"
SERVICE_FILE = "售后工单.xlsx"

ADVISOR_HEADERS = ("顾问编号", "姓名", "门店", "岗位", "邮箱", "上级工号", "在职", "每日上限")
LEAD_HEADERS = (
    "线索编号", "留资时间", "客户姓名", "手机号", "门店", "销售顾问工号", "客户来源", "意向车型", "购车预算",
    "预计购车时间", "客户级别", "客户状态", "战败原因", "对比车型", "推荐人电话", "生日", "性别", "微信",
    "勿扰",
)  # fmt: skip
FOLLOWUP_HEADERS = (
    "线索编号", "手机号", "销售顾问工号", "跟进时间", "跟进方式", "跟进结果", "沟通内容", "下次跟进时间",
    "预计购车时间", "客户级别",
)  # fmt: skip
SALES_HEADERS = (
    "订单号", "手机号", "客户姓名", "销售顾问工号", "订车日期", "门店", "线索编号", "车架号", "车型", "颜色",
    "预计交车日期", "交车日期", "订单状态", "成交价", "推荐人电话", "生日",
)  # fmt: skip
SERVICE_HEADERS = (
    "工单号", "进厂日期", "门店", "车架号", "手机号", "车牌号", "客户姓名", "维修类型", "结算金额", "里程",
    "服务顾问工号", "满意度", "是否投诉", "投诉内容",
)  # fmt: skip

# --------------------------------------------------------------------------------------------------
# Constant tables
# --------------------------------------------------------------------------------------------------

# (store name, licence plate prefix); more stores than rows reuse a city as its 二店, 三店, ...
STORE_BASES: tuple[tuple[str, str], ...] = (
    ("上海浦东店", "沪A"), ("杭州西湖店", "浙A"), ("南京江宁店", "苏A"), ("苏州园区店", "苏E"),
    ("宁波鄞州店", "浙B"), ("无锡滨湖店", "苏B"), ("合肥蜀山店", "皖A"), ("北京朝阳店", "京A"),
    ("广州天河店", "粤A"), ("深圳南山店", "粤B"), ("成都武侯店", "川A"), ("武汉光谷店", "鄂A"),
    ("西安雁塔店", "陕A"), ("重庆渝北店", "渝A"), ("长沙岳麓店", "湘A"), ("郑州金水店", "豫A"),
    ("青岛崂山店", "鲁B"), ("济南历下店", "鲁A"), ("天津滨海店", "津A"), ("福州鼓楼店", "闽A"),
    ("厦门思明店", "闽D"), ("昆明盘龙店", "云A"), ("南宁青秀店", "桂A"), ("沈阳和平店", "辽A"),
    ("大连高新店", "辽B"), ("哈尔滨南岗店", "黑A"), ("长春净月店", "吉A"), ("石家庄长安店", "冀A"),
    ("南昌红谷滩店", "赣A"), ("贵阳观山湖店", "贵A"),
)  # fmt: skip
CHINESE_ORDINALS = "一二三四五六七八九十"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
GIVEN_SINGLE = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚鹏辉华玲婷斌宇浩凯健琳")
GIVEN_DOUBLE = (
    "建国", "建华", "志强", "海燕", "雪梅", "欣怡", "子涵", "浩然", "宇轩", "梓萱", "一诺", "雨桐",
    "晨曦", "博文", "俊杰", "佳怡", "思远", "嘉豪", "秀英", "桂英", "玉兰", "丽娟", "文博", "振华",
    "晓东", "晓燕", "丹丹", "婷婷", "明辉", "国强", "春梅", "志伟", "立新", "海涛", "子豪", "心怡",
    "诗涵", "梦琪", "思雨", "天宇",
)  # fmt: skip

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "176", "177", "180", "181", "182", "183", "186", "187", "188", "189",
    "191", "198", "199",
)  # fmt: skip

# (model, lowest price, highest price, VIN model code)
MODELS: tuple[tuple[str, int, int, str], ...] = (
    ("朗逸", 99_800, 139_800, "AA2L"),
    ("凌渡L", 149_800, 189_800, "AB3C"),
    ("帕萨特", 181_900, 249_900, "AC5P"),
    ("途岳", 149_800, 199_800, "AD4Y"),
    ("途观L", 199_800, 279_800, "AE6G"),
    ("途昂", 269_800, 359_800, "AF7T"),
    ("威然", 289_800, 349_800, "AG8W"),
    ("ID.4 X", 159_800, 199_800, "BA4E"),
    ("ID.3", 119_800, 159_800, "BA3E"),
)
MODEL_WEIGHTS = (22, 9, 14, 10, 18, 6, 3, 11, 7)
COLORS = ("极地白", "曜岩黑", "星空蓝", "钨钢灰", "珍珠白", "极光银", "火山红")
COMPETITORS = (
    "丰田凯美瑞", "本田雅阁", "日产天籁", "本田CR-V", "丰田RAV4荣放", "比亚迪汉", "比亚迪宋PLUS",
    "特斯拉Model Y", "理想L6", "别克君越", "奥迪A4L", "吉利星越L",
)  # fmt: skip

SOURCES = ("汽车之家", "懂车帝", "易车", "抖音", "自然到店", "老客户转介绍", "车展", "官网")
SOURCE_WEIGHTS = (22, 20, 12, 14, 15, 8, 4, 5)
ONLINE_SOURCES = frozenset({"汽车之家", "懂车帝", "易车", "抖音", "官网"})
REFERRAL_SOURCE = "老客户转介绍"
BUDGETS = ("10-15万", "15-20万", "20-25万", "25-30万", "30万以上", "")
BUDGET_WEIGHTS = (14, 22, 20, 12, 7, 25)
TIMEFRAMES = ("1周内", "2周内", "1个月内", "3个月内", "半年内", "1年内", "")
TIMEFRAME_WEIGHTS = (8, 10, 18, 25, 15, 9, 15)
GRADE_BY_TIMEFRAME = {
    "1周内": "S", "2周内": "A", "1个月内": "B", "3个月内": "C", "半年内": "D", "1年内": "D", "": "C",
}  # fmt: skip
GRADES = "SABCD"
# days between two touches of a lead, by grade (how busy advisors really are, not the policy)
TOUCH_GAP_DAYS = {"S": (1, 3), "A": (2, 5), "B": (3, 8), "C": (5, 15), "D": (7, 30)}
# the cadence advisors who keep up with a lead actually follow (close to the default policy's intervals)
CADENCE_DAYS = {"S": 1, "A": 3, "B": 3, "C": 7, "D": 7}
STAGE_CADENCE_DAYS = {"谈判": 1, "意向": 3, "线索": 7}
LOST_REASONS = ("价格因素", "选择竞品", "暂缓购车", "预算不足", "家人反对", "贷款未通过")

PIPELINE_PATH = ("已接通", "预约到店", "已到店", "已试驾", "已报价")
CHANNELS_BY_OUTCOME: dict[str, tuple[str, ...]] = {
    "已接通": ("电话", "电话", "微信"),
    "未接通": ("电话", "电话", "电话", "短信"),
    "预约到店": ("电话", "微信"),
    "已到店": ("到店",),
    "已试驾": ("试驾",),
    "已报价": ("到店", "微信"),
    "下订": ("到店",),
    "战败": ("电话", "微信"),
    "暂不考虑": ("电话", "微信", "短信"),
}
SUMMARIES: dict[str, tuple[str, ...]] = {
    "已接通": (
        "客户在对比{competitor}，约周末再沟通", "客户关注{model}配置，已发资料",
        "客户家人意见不统一，下周再联系", "客户询问置换补贴政策", "客户关心金融方案与首付比例",
    ),
    "未接通": ("电话无人接听", "客户挂断", "关机", "占线，稍后再拨", "已发短信，未回复"),
    "预约到店": ("约周六上午到店看车", "约本周日下午到店试驾", "预约下周到店看{model}"),
    "已到店": (
        "到店看{model}，对空间满意", "到店看车，关注油耗和保养费用", "带家人到店，比较{model}两个配置",
    ),
    "已试驾": ("试驾{model}，对动力满意", "试驾后关注隔音，需再对比{competitor}", "家人一起试驾，反馈良好"),
    "已报价": ("已报价，客户考虑中", "已出方案，客户希望再优惠", "已报价含置换方案，等待答复"),
    "下订": ("客户下订{model}，已交定金", "签订合同，约定交车时间"),
    "战败": ("客户已购{competitor}", "预算不足，暂不购车", "客户选择其他品牌，已战败"),
    "暂不考虑": ("客户近期不考虑购车", "客户工作调动，明年再说", "客户表示暂不需要，三个月后再联系"),
}  # fmt: skip
DELIVERY_CALL_SUMMARIES = (
    "交车回访：客户对车辆满意", "交车回访：指导客户使用车机互联", "交车回访：提醒首保时间",
    "交车回访：客户询问ETC办理",
)  # fmt: skip
SERVICE_CALL_SUMMARIES = (
    "售后回访：客户对本次保养满意", "售后回访：客户反馈维修效果良好", "售后回访：提醒下次保养里程",
)  # fmt: skip
COMPLAINT_CALL_SUMMARIES = ("投诉回访：已致歉并安排返修，客户接受", "投诉回访：已减免工时费，客户表示理解")
CANCEL_SUMMARY = "客户退订，定金已退"

SERVICE_KINDS_RANDOM = ("维修", "钣喷", "索赔", "保险")
SERVICE_KIND_RANDOM_WEIGHTS = (45, 25, 10, 20)
SERVICE_AMOUNTS: dict[str, tuple[int, int]] = {
    "首保": (0, 300), "定保": (380, 1200), "保养": (450, 1600), "维修": (200, 6000),
    "钣喷": (800, 9000), "索赔": (0, 0), "保险": (2500, 12000),
}  # fmt: skip
COMPLAINT_TEXTS = (
    "等待时间过长，服务顾问未及时告知进度", "维修后异响未解决，需要返修", "结算金额与报价不符",
    "洗车不干净，车内有烟味", "取车时发现新的划痕",
)  # fmt: skip
WECHAT_ID_CHARS = "abcdefghijkmnpqrstuvwxyz23456789"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
# VIN check digit (ISO 3779): the value of each character and the weight of each position
VIN_VALUES = dict(
    zip(
        "0123456789" + "ABCDEFGH" + "JKLMN" + "P" + "R" + "STUVWXYZ",
        (*range(10), *range(1, 9), *range(1, 6), 7, 9, *range(2, 10)),
        strict=True,
    )
)
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 2010 = A, cycle of 30 years
VIN_PLANTS = "ABCN"

DAILY_CAPACITY = {"销售顾问": (30, 35, 40), "服务顾问": (40, 50)}  # managers: no cap
WORK_HOURS = (9, 9, 10, 10, 11, 11, 13, 14, 14, 15, 15, 16, 16, 17, 18, 19, 20)  # busier mornings
LEADS_PER_STORE = (290, 310)
SALES_PER_STORE = (57, 63)
SERVICE_ORDERS_PER_STORE = (240, 260)
HISTORY_DAYS = 730
END_OF_DAY = time(23, 59)
GHOST_ADVISOR_SEQ = 9  # an advisor id that is never on the roster (deleted, but the CRM still routes to it)
GHOST_LEFT_DAYS = 400

# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    index: int
    code: str
    name: str
    plate_prefix: str


@dataclass
class Advisor:
    advisor_id: str
    name: str
    role: str
    email: str
    manager_id: str
    active: bool
    capacity: int | None
    departed: date | None = None


@dataclass
class FollowUp:
    at: datetime
    advisor_id: str
    channel: str
    outcome: str
    summary: str
    phone: str
    lead: Lead | None = None  # None: a service call that names the customer by phone
    phone_only: bool = False
    next_at: date | None = None
    timeframe: str = ""
    grade: str = ""


@dataclass
class Lead:
    created_at: datetime
    name: str
    phone: str
    advisor_id: str
    source: str
    model: str
    budget: str
    timeframe: str
    grade: str
    gender: str
    birthday: date
    show_birthday: bool
    wechat: str
    competitor: str
    do_not_contact: bool = False
    status: str = "线索"
    lost_reason: str = ""
    referrer_phone: str = ""
    lead_id: str = ""
    planted: bool = False
    phone_text: str | None = None  # a dirty-but-valid cell overriding the formatted phone
    created_text: str | None = None  # a dirty-but-valid cell overriding the datetime
    followups: list[FollowUp] = field(default_factory=list)


@dataclass
class Sale:
    lead: Lead
    ordered_on: date
    vin: str
    model: str
    color: str
    planned: date | None
    delivered: date | None
    status: str
    price: int
    birthday: date | None
    order_id: str = ""
    planted: bool = False
    ordered_text: str | None = None


@dataclass
class Car:
    vin: str
    plate: str
    name: str
    phone: str  # digits, "" when the repair order carries only the VIN
    start: date
    start_km: int
    km_per_day: float


@dataclass
class Visit:
    visited: date
    car: Car
    kind: str
    amount: float
    mileage: int
    advisor_id: str
    csat: int | None
    complaint: str
    complaint_text: str
    ro_id: str = ""
    planted: bool = False


@dataclass
class StoreData:
    store: Store
    as_of: date
    advisors: list[Advisor]
    leads: list[Lead] = field(default_factory=list)
    sales: list[Sale] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    service_followups: list[FollowUp] = field(default_factory=list)

    @property
    def manager(self) -> Advisor:
        return next(a for a in self.advisors if a.role == "经理")

    @property
    def sales_team(self) -> list[Advisor]:
        return [a for a in self.advisors if a.role == "销售顾问"]

    @property
    def active_sales(self) -> list[Advisor]:
        return [a for a in self.sales_team if a.active]

    @property
    def inactive_sales(self) -> Advisor:
        return next(a for a in self.sales_team if not a.active)

    @property
    def service_team(self) -> list[Advisor]:
        return [a for a in self.advisors if a.role == "服务顾问"]

    @property
    def ghost_id(self) -> str:
        return f"{self.store.code}A{GHOST_ADVISOR_SEQ:02d}"

    @property
    def ghost_left(self) -> date:
        return self.as_of - timedelta(days=GHOST_LEFT_DAYS)

    def last_working_day(self, advisor_id: str) -> date:
        """Last day the advisor could log work: as_of if still here, else the day before they left."""
        if advisor_id == self.ghost_id:
            return self.ghost_left - timedelta(days=1)
        advisor = next(a for a in self.advisors if a.advisor_id == advisor_id)
        return advisor.departed - timedelta(days=1) if advisor.departed else self.as_of

    def worker_on(self, advisor_id: str, day: date) -> str:
        """The advisor, or the store manager when the advisor had already left on ``day``."""
        return advisor_id if day <= self.last_working_day(advisor_id) else self.manager.advisor_id


@dataclass
class Group:
    as_of: date
    seed: int
    used_phones: set[str] = field(default_factory=set)
    used_vins: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------


def generate(drop_dir: Path, *, as_of: date, seed: int = 7, size: int = 1) -> list[Path]:
    """Write a realistic sample drop folder for `as_of`; return the files written (sorted)."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    drop_dir = Path(drop_dir)
    drop_dir.mkdir(parents=True, exist_ok=True)
    group = Group(as_of=as_of, seed=seed)
    stores = [build_store(group, store) for store in make_stores(size)]
    written = [
        write_advisors(drop_dir / ADVISORS_FILE, stores),
        *(write_leads(drop_dir / LEADS_FILE.format(code=sd.store.code), sd, seed) for sd in stores),
        write_followups(drop_dir / FOLLOWUPS_FILE, stores, seed),
        write_sales(drop_dir / SALES_FILE, stores, seed),
        write_service(drop_dir / SERVICE_FILE, stores, seed),
    ]
    return sorted(written)


def make_stores(size: int) -> list[Store]:
    stores = []
    for index in range(3 * size):
        base, plate_prefix = STORE_BASES[index % len(STORE_BASES)]
        branch = index // len(STORE_BASES) + 1
        name = base if branch == 1 else base.removesuffix("店") + _branch_suffix(branch)
        stores.append(Store(index=index, code=f"S{index + 1:02d}", name=name, plate_prefix=plate_prefix))
    return stores


def _branch_suffix(branch: int) -> str:
    return f"{CHINESE_ORDINALS[branch - 1]}店" if branch <= len(CHINESE_ORDINALS) else f"{branch}店"


def build_store(group: Group, store: Store) -> StoreData:
    """All rows of one store; the store's own generator makes it independent of the other stores."""
    rng = random.Random(f"genjin:{group.seed}:{store.code}")
    sd = StoreData(store=store, as_of=group.as_of, advisors=make_advisors(rng, store, group.as_of))
    plant_pipeline(rng, group, sd)
    plant_sales(rng, group, sd)
    add_random_leads_and_sales(rng, group, sd)
    assign_lead_ids(sd)
    assign_referrers(rng, group, sd)
    plant_service(rng, group, sd)
    add_random_service(rng, group, sd)
    plant_dirty_cells(rng, sd)
    return sd


# --------------------------------------------------------------------------------------------------
# Small random helpers
# --------------------------------------------------------------------------------------------------


def _pick(rng: random.Random, values: Sequence[str], weights: Sequence[int]) -> str:
    return rng.choices(values, weights=weights)[0]


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute))


def _work_time(rng: random.Random) -> time:
    return time(rng.choice(WORK_HOURS), rng.randrange(60))


def person_name(rng: random.Random) -> str:
    if rng.random() < 0.01:
        surname = rng.choice(COMPOUND_SURNAMES)
    else:
        surname = rng.choices(SURNAMES, weights=range(len(SURNAMES) + 20, 20, -1))[0]
    given = rng.choice(GIVEN_SINGLE) if rng.random() < 0.4 else rng.choice(GIVEN_DOUBLE)
    return surname + given


def new_phone(rng: random.Random, group: Group) -> str:
    """An unused mainland mobile number, 11 digits."""
    while True:
        phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if phone not in group.used_phones:
            group.used_phones.add(phone)
            return phone


def format_phone(rng: random.Random, phone: str) -> str:
    """The same number the way different exports and people type it."""
    r = rng.random()
    if r < 0.70:
        return phone
    if r < 0.82:
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if r < 0.92:
        return f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    return "86" + phone


def format_datetime_text(rng: random.Random, moment: datetime) -> str:
    r = rng.random()
    if r < 0.6:
        return moment.strftime("%Y-%m-%d %H:%M")
    if r < 0.85:
        return f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment.minute:02d}"
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def format_date_text(rng: random.Random, day: date) -> str:
    return day.isoformat() if rng.random() < 0.7 else f"{day.year}/{day.month}/{day.day}"


def new_vin(rng: random.Random, group: Group, model_code: str, year: int) -> str:
    """A unique 17-character VIN with a valid check digit (position 9)."""
    while True:
        body = (
            "LSV"
            + model_code
            + rng.choice(VIN_ALPHABET)
            + "0"  # check digit placeholder
            + VIN_YEAR_CODES[(year - 2010) % len(VIN_YEAR_CODES)]
            + rng.choice(VIN_PLANTS)
            + f"{rng.randrange(10**6):06d}"
        )
        total = sum(VIN_VALUES[ch] * w for ch, w in zip(body, VIN_WEIGHTS, strict=True))
        check = "X" if total % 11 == 10 else str(total % 11)
        vin = body[:8] + check + body[9:]
        if vin not in group.used_vins:
            group.used_vins.add(vin)
            return vin


def new_plate(rng: random.Random, store: Store, electric: bool = False) -> str:
    if electric:
        tail = rng.choice("DF") + f"{rng.randrange(10**5):05d}"
    else:
        chars = [str(rng.randrange(10)) for _ in range(5)]
        for pos in rng.sample(range(5), rng.choice((0, 1, 1, 2))):
            chars[pos] = rng.choice(PLATE_LETTERS)
        tail = "".join(chars)
    return f"{store.plate_prefix}·{tail}" if rng.random() < 0.8 else f"{store.plate_prefix}{tail}"


def _grade_of(lead: Lead) -> str:
    return lead.grade or GRADE_BY_TIMEFRAME[lead.timeframe]


# --------------------------------------------------------------------------------------------------
# Advisors
# --------------------------------------------------------------------------------------------------


def make_advisors(rng: random.Random, store: Store, as_of: date) -> list[Advisor]:
    """1 manager, 4-5 sales advisors (one of them gone but still owning leads), 2 service advisors."""
    n_sales = rng.choice((4, 5))
    roles = ["经理"] + ["销售顾问"] * n_sales + ["服务顾问"] * 2
    sales_positions = list(range(1, n_sales + 1))
    inactive = rng.choice(sales_positions)
    no_email = rng.choice([p for p in sales_positions if p != inactive])
    manager_id = f"{store.code}A01"
    names: set[str] = set()
    advisors = []
    for position, role in enumerate(roles):
        advisor_id = f"{store.code}A{position + 1:02d}"
        name = person_name(rng)
        while name in names:
            name = person_name(rng)
        names.add(name)
        advisors.append(
            Advisor(
                advisor_id=advisor_id,
                name=name,
                role=role,
                email="" if position == no_email else f"{advisor_id.lower()}@dealer.example.cn",
                manager_id="" if role == "经理" else manager_id,
                active=position != inactive,
                capacity=rng.choice(DAILY_CAPACITY[role]) if role in DAILY_CAPACITY else None,
                departed=as_of - _days(rng.randint(10, 13)) if position == inactive else None,
            )
        )
    return advisors


# --------------------------------------------------------------------------------------------------
# Leads and their follow-ups
# --------------------------------------------------------------------------------------------------


def new_lead(rng: random.Random, group: Group, created_at: datetime, advisor_id: str) -> Lead:
    """A lead with random customer attributes; callers override what a case needs."""
    timeframe = _pick(rng, TIMEFRAMES, TIMEFRAME_WEIGHTS)
    grade = ""
    if rng.random() < 0.5:
        grade = GRADE_BY_TIMEFRAME[timeframe] if rng.random() < 0.8 else rng.choice(GRADES)
    phone = new_phone(rng, group)
    wechat = ""
    if rng.random() < 0.35:
        wechat = phone if rng.random() < 0.4 else "wxid_" + "".join(rng.choices(WECHAT_ID_CHARS, k=10))
    return Lead(
        created_at=created_at,
        name=person_name(rng),
        phone=phone,
        advisor_id=advisor_id,
        source=_pick(rng, SOURCES, SOURCE_WEIGHTS),
        model=_pick(rng, [m[0] for m in MODELS], MODEL_WEIGHTS),
        budget=_pick(rng, BUDGETS, BUDGET_WEIGHTS),
        timeframe=timeframe,
        grade=grade,
        gender=_pick(rng, ("男", "女", ""), (60, 38, 2)),
        birthday=date(rng.randint(1965, 2001), rng.randint(1, 12), rng.randint(1, 28)),
        show_birthday=rng.random() < 0.4,
        wechat=wechat,
        competitor=rng.choice(COMPETITORS) if rng.random() < 0.4 else "",
        do_not_contact=rng.random() < 0.01,
    )


def touch(
    rng: random.Random,
    lead: Lead,
    at: datetime,
    outcome: str,
    *,
    advisor_id: str | None = None,
    next_at: date | None = None,
    phone_only: bool = False,
    timeframe: str = "",
    grade: str = "",
    summary: str | None = None,
) -> FollowUp:
    """Log one follow-up on a lead (appended to the lead)."""
    text = summary or rng.choice(SUMMARIES[outcome]).format(
        model=lead.model, competitor=lead.competitor or "其他品牌"
    )
    followup = FollowUp(
        at=at,
        advisor_id=advisor_id or lead.advisor_id,
        channel=rng.choice(CHANNELS_BY_OUTCOME.get(outcome, ("电话",))),
        outcome=outcome,
        summary=text,
        phone=lead.phone,
        lead=lead,
        phone_only=phone_only,
        next_at=next_at,
        timeframe=timeframe,
        grade=grade,
    )
    lead.followups.append(followup)
    return followup


def first_touch_time(rng: random.Random, created_at: datetime) -> datetime:
    """Most new leads are called within hours, some the next day, a few days later."""
    r = rng.random()
    if r < 0.65:
        return created_at + timedelta(minutes=rng.randint(8, 240))
    moment = datetime.combine(created_at.date() + _days(1 if r < 0.9 else rng.randint(2, 4)), _work_time(rng))
    return max(moment, created_at + timedelta(minutes=5))


def touch_times(rng: random.Random, lead: Lead, n: int, cap: datetime) -> list[datetime]:
    """Up to ``n`` touches from the lead's creation on, then nothing: worked for a while, then let go."""
    low, high = TOUCH_GAP_DAYS[_grade_of(lead)]
    times: list[datetime] = []
    prev = lead.created_at
    for i in range(n):
        if i == 0:
            moment = first_touch_time(rng, prev)
        else:
            moment = datetime.combine(prev.date() + _days(rng.randint(low, high)), _work_time(rng))
            if moment <= prev:
                moment = prev + timedelta(minutes=rng.randint(5, 90))
        if moment > cap:
            break
        times.append(moment)
        prev = moment
    return times


def kept_up_touch_times(
    rng: random.Random, lead: Lead, n: int, cap: datetime, cadence: int
) -> list[datetime]:
    """Up to ``n`` touches of a lead its advisor keeps up with: the first soon after creation, the latest
    ones every ``cadence`` days (give or take one) up to a day or two before ``cap``."""
    first = first_touch_time(rng, lead.created_at)
    if n == 0 or first > cap:
        return []
    recent: list[datetime] = []
    day = cap.date() - _days(rng.randint(1, cadence + 1))
    while len(recent) < n - 1:
        moment = datetime.combine(day, _work_time(rng))
        if moment <= first:
            break
        recent.append(moment)
        day -= _days(rng.randint(max(1, cadence - 1), cadence + 1))
    return [first, *sorted(recent)]


def outcome_sequence(rng: random.Random, n: int, eager: bool) -> list[str]:
    """Outcomes of ``n`` touches along 已接通 → 预约到店 → 已到店 → 已试驾 → 已报价, with missed calls."""
    level = -1
    outcomes = []
    for _ in range(n):
        if rng.random() < 0.22:
            outcomes.append("未接通")
            continue
        step = rng.choice((1, 1, 2) if eager else (0, 1, 1))
        level = min(max(level + step, 0), len(PIPELINE_PATH) - 1)
        outcomes.append(PIPELINE_PATH[level])
    return outcomes


def status_from_outcomes(outcomes: Iterable[str]) -> str:
    reached = [PIPELINE_PATH.index(o) for o in outcomes if o in PIPELINE_PATH]
    if reached and max(reached) >= 2:
        return "谈判"
    return "意向" if reached else "线索"


def log_touches(
    rng: random.Random, lead: Lead, sd: StoreData, times: Sequence[datetime], outcomes: Sequence[str]
) -> list[FollowUp]:
    """Follow-ups at ``times``; some plan the next call or update the grade, one in ten names the lead
    by phone only, a few are logged by the manager."""
    logged = []
    for moment, outcome in zip(times, outcomes, strict=True):
        next_at = moment.date() + _days(rng.choice((1, 2, 3, 5, 7))) if rng.random() < 0.3 else None
        timeframe = grade = ""
        if rng.random() < 0.15:
            if rng.random() < 0.5:
                timeframe = _pick(rng, TIMEFRAMES[:-1], TIMEFRAME_WEIGHTS[:-1])
            else:
                grade = rng.choice(GRADES)
        by_manager = rng.random() < 0.03
        logged.append(
            touch(
                rng,
                lead,
                moment,
                outcome,
                advisor_id=sd.manager.advisor_id if by_manager else None,
                next_at=next_at,
                phone_only=rng.random() < 0.1,
                timeframe=timeframe,
                grade=grade,
            )
        )
    return logged


def finish_lost(rng: random.Random, lead: Lead, last: FollowUp) -> None:
    last.outcome, last.next_at = "战败", None
    last.channel = rng.choice(CHANNELS_BY_OUTCOME["战败"])
    lead.status = "战败"
    lead.lost_reason = rng.choice(LOST_REASONS)
    if lead.lost_reason == "选择竞品" and not lead.competitor:
        lead.competitor = rng.choice(COMPETITORS)
    last.summary = rng.choice(SUMMARIES["战败"]).format(
        model=lead.model, competitor=lead.competitor or "其他品牌"
    )


def finish_dormant(rng: random.Random, lead: Lead, last: FollowUp) -> None:
    last.outcome = "暂不考虑"
    last.channel = rng.choice(CHANNELS_BY_OUTCOME["暂不考虑"])
    last.summary = rng.choice(SUMMARIES["暂不考虑"])
    last.next_at = last.at.date() + _days(30) if rng.random() < 0.4 else None


def lead_fate(rng: random.Random, age_days: int) -> str:
    """How an unsold lead ended up: most old leads are closed, recent ones are still open."""
    if age_days > 180:
        weights = (90, 8, 2)
    elif age_days > 60:
        weights = (60, 15, 25)
    elif age_days > 15:
        weights = (25, 10, 65)
    else:
        weights = (5, 3, 92)
    return _pick(rng, ("lost", "dormant", "open"), weights)


def simulate_unsold_lead(rng: random.Random, sd: StoreData, lead: Lead) -> None:
    fate = lead_fate(rng, (sd.as_of - lead.created_at.date()).days)
    cap = datetime.combine(sd.last_working_day(lead.advisor_id), END_OF_DAY)
    n = rng.choices(range(7), weights=(5, 20, 22, 20, 15, 10, 8))[0] if fate == "open" else rng.randint(1, 5)
    if fate == "open" and rng.random() < 0.75:
        outcomes = outcome_sequence(rng, n, eager=False)
        stage = status_from_outcomes(outcomes)
        cadence = min(CADENCE_DAYS[_grade_of(lead)], STAGE_CADENCE_DAYS[stage])
        times = kept_up_touch_times(rng, lead, n, cap, cadence)
    else:
        times = touch_times(rng, lead, n, cap)
        outcomes = outcome_sequence(rng, len(times), eager=False)
    logged = log_touches(rng, lead, sd, times, outcomes[: len(times)])
    lead.status = status_from_outcomes(f.outcome for f in logged)
    if logged and fate == "lost":
        finish_lost(rng, lead, logged[-1])
    elif logged and fate == "dormant":
        finish_dormant(rng, lead, logged[-1])
        last = logged[-1].at
        again = datetime.combine(cap.date() - _days(rng.randint(5, 32)), _work_time(rng))
        if len(logged) < 6 and again > last + _days(25):
            touch(rng, lead, again, "暂不考虑")  # asked again lately: still not now


# --------------------------------------------------------------------------------------------------
# Sales
# --------------------------------------------------------------------------------------------------


def _model_row(name: str) -> tuple[str, int, int, str]:
    return next(m for m in MODELS if m[0] == name)


def deal_price(rng: random.Random, model: str) -> int:
    _, low, high, _ = _model_row(model)
    return rng.randrange(low // 1000, high // 1000 + 1) * 1000 - rng.choice((200, 1200, 0, 500, 2200))


def order_moment(rng: random.Random, lead: Lead, ordered_on: date) -> datetime:
    moment = datetime.combine(ordered_on, _work_time(rng))
    if moment <= lead.created_at:  # a walk-in who ordered on the day
        minutes_left = int((datetime.combine(ordered_on, END_OF_DAY) - lead.created_at).total_seconds() // 60)
        moment = lead.created_at + timedelta(minutes=max(1, min(rng.randint(30, 120), minutes_left)))
    return moment


def make_sale(
    rng: random.Random,
    group: Group,
    sd: StoreData,
    lead: Lead,
    ordered_on: date,
    *,
    planned: date | None,
    delivered: date | None,
    status: str,
) -> Sale:
    """An order for ``lead`` plus the follow-ups that led to it (ending in 下订 on the order day)."""
    model = lead.model if rng.random() < 0.85 else _pick(rng, [m[0] for m in MODELS], MODEL_WEIGHTS)
    birthday = lead.birthday if (lead.show_birthday and rng.random() < 0.8) or rng.random() < 0.3 else None
    sale = Sale(
        lead=lead,
        ordered_on=ordered_on,
        vin=new_vin(rng, group, _model_row(model)[3], ordered_on.year),
        model=model,
        color=rng.choice(COLORS),
        planned=planned,
        delivered=delivered,
        status=status,
        price=deal_price(rng, model),
        birthday=birthday,
    )
    order_at = order_moment(rng, lead, ordered_on)
    times = touch_times(rng, lead, rng.randint(0, 4), order_at - timedelta(minutes=1))
    log_touches(rng, lead, sd, times, outcome_sequence(rng, len(times), eager=True))
    touch(rng, lead, order_at, "下订", advisor_id=sd.worker_on(lead.advisor_id, ordered_on))
    lead.status = "成交"
    if status == "已退订":
        cancelled = min(ordered_on + _days(rng.randint(2, 10)), sd.as_of)
        lost = touch(
            rng,
            lead,
            datetime.combine(cancelled, _work_time(rng)),
            "战败",
            summary=CANCEL_SUMMARY,
            advisor_id=sd.worker_on(lead.advisor_id, cancelled),
        )
        if lost.at <= order_at:
            lost.at = order_at + timedelta(minutes=rng.randint(30, 300))
            lost.at = min(lost.at, datetime.combine(order_at.date(), END_OF_DAY))
        lead.status, lead.lost_reason = "战败", "暂缓购车"
    sd.sales.append(sale)
    return sale


def log_delivery_calls(rng: random.Random, sd: StoreData, sale: Sale, odds: dict[int, float]) -> None:
    """Post-delivery calls on delivered + N days (those already past), each with its own chance."""
    assert sale.delivered is not None
    for offset, chance in odds.items():
        day = sale.delivered + _days(offset)
        if day <= sd.as_of and rng.random() < chance:
            touch(
                rng,
                sale.lead,
                datetime.combine(day, _work_time(rng)),
                "已接通",
                advisor_id=sd.worker_on(sale.lead.advisor_id, day),
                summary=rng.choice(DELIVERY_CALL_SUMMARIES),
            )


def random_sale(rng: random.Random, group: Group, sd: StoreData, lead: Lead) -> Sale | None:
    """Turn a lead into an order after a realistic deal cycle (None: after as_of, or the advisor left)."""
    as_of = sd.as_of
    created = lead.created_at.date()
    cycle = 0 if rng.random() < 0.12 else int(rng.expovariate(1 / 20)) + 1
    ordered_on = created + _days(cycle)
    if ordered_on > min(as_of, sd.last_working_day(lead.advisor_id)):
        return None  # not decided yet, or its advisor had left by then
    planned = ordered_on + _days(rng.randint(5, 35))
    delivered = None
    if rng.random() < 0.04:
        status = "已退订"
    else:
        actual = max(ordered_on, planned + _days(rng.choice((-2, -1, 0, 0, 0, 0, 1, 2, 3))))
        delivered = actual if actual <= as_of and rng.random() > 0.03 else None
        status = "已交车" if delivered else "已订车"
    sale = make_sale(rng, group, sd, lead, ordered_on, planned=planned, delivered=delivered, status=status)
    if delivered:
        log_delivery_calls(rng, sd, sale, {1: 0.8, 3: 0.6, 7: 0.7, 30: 0.5})
    _trim_followups(lead)
    return sale


def _trim_followups(lead: Lead, keep: int = 6) -> None:
    """At most ``keep`` follow-ups per lead: drop the earliest pipeline touches first."""
    lead.followups.sort(key=lambda f: f.at)
    while len(lead.followups) > keep:
        lead.followups.pop(0)


# --------------------------------------------------------------------------------------------------
# Random history
# --------------------------------------------------------------------------------------------------


def random_created_at(rng: random.Random, as_of: date, source: str) -> datetime:
    day = as_of - _days(int(HISTORY_DAYS * rng.random() ** 1.25))
    if source in ONLINE_SOURCES and rng.random() < 0.2:
        hour = rng.randrange(24)
        return _at(day, hour, rng.randrange(31 if hour == 23 else 60))
    return _at(day, rng.randint(9, 20), rng.randrange(60))


def random_owner(rng: random.Random, sd: StoreData, created: date) -> str:
    """A sales advisor there when the lead came in (now and then one since deleted from the roster)."""
    if created < sd.ghost_left and rng.random() < 0.05:
        return sd.ghost_id
    team = [a for a in sd.sales_team if a.departed is None or created < a.departed]
    return rng.choice(team).advisor_id


def add_random_leads_and_sales(rng: random.Random, group: Group, sd: StoreData) -> None:
    as_of = sd.as_of
    n_leads = rng.randint(*LEADS_PER_STORE) - len(sd.leads)
    n_sales = rng.randint(*SALES_PER_STORE) - len(sd.sales)
    fresh: list[Lead] = []
    for _ in range(n_leads):
        lead = new_lead(rng, group, datetime.min, "")
        lead.created_at = random_created_at(rng, as_of, lead.source)
        lead.advisor_id = random_owner(rng, sd, lead.created_at.date())
        fresh.append(lead)
    fresh.sort(key=lambda lead: lead.created_at)
    for i, lead in enumerate(fresh[1:], start=1):  # the same customer asking again later
        if rng.random() < 0.02:
            earlier = fresh[rng.randrange(i)]
            lead.phone, lead.name = earlier.phone, earlier.name
            lead.gender, lead.birthday = earlier.gender, earlier.birthday
    candidates = [lead for lead in fresh if lead.created_at.date() < as_of]
    rng.shuffle(candidates)
    sold: set[int] = set()
    for lead in candidates:
        if len(sold) >= n_sales:
            break
        if random_sale(rng, group, sd, lead):
            sold.add(id(lead))
    for lead in fresh:
        if id(lead) not in sold:
            simulate_unsold_lead(rng, sd, lead)
    sd.leads.extend(fresh)


def assign_lead_ids(sd: StoreData) -> None:
    """Lead ids in creation order, unique across the group (the store code is part of the id)."""
    sd.leads.sort(key=lambda lead: lead.created_at)
    for seq, lead in enumerate(sd.leads, start=1):
        lead.lead_id = f"L{sd.store.code}{seq:06d}"
        lead.followups.sort(key=lambda f: f.at)


def assign_referrers(rng: random.Random, group: Group, sd: StoreData) -> None:
    """Referral leads name an earlier buyer of the store (or someone outside the data) as referrer."""
    buyers = sorted(sd.sales, key=lambda s: s.ordered_on)
    for lead in sd.leads:
        if lead.source != REFERRAL_SOURCE:
            continue
        created = lead.created_at.date()
        earlier = [s.lead.phone for s in buyers if s.ordered_on < created and s.lead is not lead]
        use_buyer = earlier and rng.random() < 0.85
        lead.referrer_phone = rng.choice(earlier) if use_buyer else new_phone(rng, group)


# --------------------------------------------------------------------------------------------------
# Service
# --------------------------------------------------------------------------------------------------


def new_visit(rng: random.Random, sd: StoreData, car: Car, day: date, kind: str) -> Visit:
    low, high = SERVICE_AMOUNTS[kind]
    free = kind == "首保" and rng.random() < 0.7
    amount = 0.0 if free else round(rng.uniform(low, high), rng.choice((0, 2)))
    mileage = car.start_km + int((day - car.start).days * car.km_per_day * rng.uniform(0.9, 1.1))
    team = sd.service_team
    complaint = _pick(rng, ("是", "否", ""), (3, 90, 7))
    csat: int | None
    r = rng.random()
    if r < 0.12:
        csat = None
    elif r < 0.27:
        csat = rng.choice((2, 3, 4, 4, 5, 5, 5)) if complaint == "是" else rng.choice((3, 4, 4, 5, 5, 5, 5))
    elif complaint == "是":
        csat = rng.randint(30, 75)
    else:
        csat = rng.randint(85, 100) if rng.random() < 0.93 else rng.randint(45, 84)
    return Visit(
        visited=day,
        car=car,
        kind=kind,
        amount=amount,
        mileage=max(mileage, car.start_km),
        advisor_id="" if rng.random() < 0.03 else rng.choice(team).advisor_id,
        csat=csat,
        complaint=complaint,
        complaint_text=rng.choice(COMPLAINT_TEXTS) if complaint == "是" else "",
    )


def is_unhappy(visit: Visit) -> bool:
    low_csat = visit.csat is not None and (visit.csat < 3 if visit.csat <= 5 else visit.csat < 60)
    return visit.complaint == "是" or bool(visit.complaint_text) or low_csat


def car_for_sale(rng: random.Random, group: Group, sd: StoreData, sale: Sale, spouse: bool) -> Car:
    """The sold car as the workshop knows it; with ``spouse`` its repair orders carry another phone."""
    assert sale.delivered is not None
    name, phone = sale.lead.name, sale.lead.phone
    if spouse:
        name, phone = person_name(rng), new_phone(rng, group)
    return Car(
        vin=sale.vin,
        plate=new_plate(rng, sd.store, electric=sale.model.startswith("ID.")),
        name=name,
        phone=phone,
        start=sale.delivered,
        start_km=rng.randint(5, 40),
        km_per_day=rng.uniform(20, 70),
    )


def service_only_car(rng: random.Random, group: Group, sd: StoreData, first_visit: date) -> Car:
    """A car bought elsewhere (not in the sales data) that is serviced here."""
    model = _pick(rng, [m[0] for m in MODELS], MODEL_WEIGHTS)
    year = first_visit.year - rng.randint(1, 8)
    return Car(
        vin=new_vin(rng, group, _model_row(model)[3], year),
        plate=new_plate(rng, sd.store, electric=model.startswith("ID.")),
        name=person_name(rng),
        phone=new_phone(rng, group),
        start=first_visit,
        start_km=rng.randint(8_000, 90_000),
        km_per_day=rng.uniform(20, 60),
    )


def sale_car_schedule(rng: random.Random, sale: Sale, as_of: date) -> list[tuple[date, str]]:
    """首保 around delivery + 150 days, regular services after it, and a few repairs, none after as_of."""
    assert sale.delivered is not None
    plan: list[tuple[date, str]] = []
    day = sale.delivered + _days(rng.randint(135, 170))
    if day <= as_of and rng.random() < 0.85:
        plan.append((day, "首保"))
        while (day := day + _days(rng.randint(150, 220))) <= as_of:
            plan.append((day, rng.choice(("定保", "定保", "保养"))))
    span = (as_of - sale.delivered).days
    if span > 60:
        p = min(0.8, span / 365 * 0.4)
        for _ in range(rng.choices((0, 1, 2), weights=(1 - p, p * 0.8, p * 0.2))[0]):
            kind = _pick(rng, SERVICE_KINDS_RANDOM, SERVICE_KIND_RANDOM_WEIGHTS)
            plan.append((sale.delivered + _days(rng.randint(30, span)), kind))
    return sorted(plan)


def service_only_schedule(rng: random.Random, as_of: date) -> list[tuple[date, str]]:
    day = as_of - _days(rng.randrange(HISTORY_DAYS))
    plan = []
    for _ in range(rng.choices((1, 2, 3, 4, 5), weights=(25, 30, 22, 15, 8))[0]):
        if day > as_of:
            break
        kind = _pick(rng, ("保养", "定保", "维修", "钣喷", "保险", "索赔"), (40, 20, 20, 9, 8, 3))
        plan.append((day, kind))
        day += _days(rng.randint(80, 260))
    return plan


def add_visits(rng: random.Random, sd: StoreData, car: Car, plan: Iterable[tuple[date, str]]) -> list[Visit]:
    visits = [new_visit(rng, sd, car, day, kind) for day, kind in plan]
    sd.visits.extend(visits)
    return visits


def add_random_service(rng: random.Random, group: Group, sd: StoreData) -> None:
    target = rng.randint(*SERVICE_ORDERS_PER_STORE)
    random_visits: list[Visit] = []
    for sale in sd.sales:
        if sale.planted or sale.delivered is None:
            continue
        car = car_for_sale(rng, group, sd, sale, spouse=rng.random() < 0.1)
        if rng.random() < 0.03:
            car.phone = ""  # repair order with the VIN only
        random_visits += add_visits(rng, sd, car, sale_car_schedule(rng, sale, sd.as_of))
    while len(sd.visits) < target:
        plan = service_only_schedule(rng, sd.as_of)[: target - len(sd.visits)]
        car = service_only_car(rng, group, sd, plan[0][0])
        random_visits += add_visits(rng, sd, car, plan)
    log_service_calls(rng, sd, random_visits)
    sd.visits.sort(key=lambda v: v.visited)


def log_service_calls(rng: random.Random, sd: StoreData, visits: Iterable[Visit]) -> None:
    """Service advisors call back, naming the customer by phone: complaints, revisits of recent visits."""
    as_of = sd.as_of
    for visit in visits:
        if not visit.car.phone:
            continue
        advisor_id = visit.advisor_id or sd.service_team[0].advisor_id
        if is_unhappy(visit):
            day = visit.visited + _days(rng.randint(0, 2))
            handled = (as_of - visit.visited).days > 7 or rng.random() < 0.5
            if day <= as_of and handled:
                sd.service_followups.append(
                    service_call(rng, visit, day, advisor_id, COMPLAINT_CALL_SUMMARIES)
                )
        elif (as_of - visit.visited).days <= 45 and rng.random() < 0.6:
            day = visit.visited + _days(rng.randint(3, 4))
            if day <= as_of:
                sd.service_followups.append(service_call(rng, visit, day, advisor_id, SERVICE_CALL_SUMMARIES))


def service_call(
    rng: random.Random, visit: Visit, day: date, advisor_id: str, texts: Sequence[str]
) -> FollowUp:
    return FollowUp(
        at=datetime.combine(day, _work_time(rng)),
        advisor_id=advisor_id,
        channel="电话",
        outcome="已接通",
        summary=rng.choice(texts),
        phone=visit.car.phone,
        phone_only=True,
    )


# --------------------------------------------------------------------------------------------------
# Planted cases (relative to as_of = D)
# --------------------------------------------------------------------------------------------------


def plant_pipeline(rng: random.Random, group: Group, sd: StoreData) -> None:
    """Leads that make first_contact and followup tasks due on D, each for a different reason."""
    d = sd.as_of
    sellers = sd.active_sales
    gone = sd.inactive_sales

    def lead(days_ago: int, hour: int, minute: int, advisor_id: str = "", **overrides: object) -> Lead:
        created = _at(d - _days(days_ago), hour, minute)
        planted = new_lead(rng, group, created, advisor_id or rng.choice(sellers).advisor_id)
        planted.planted, planted.do_not_contact = True, False
        for key, value in overrides.items():
            setattr(planted, key, value)
        sd.leads.append(planted)
        return planted

    def log(target: Lead, days_ago: int, outcome: str, hour: int = 10, minute: int = 30, **kw: Any) -> None:
        touch(rng, target, _at(d - _days(days_ago), hour, minute), outcome, **kw)

    # first_contact: new leads nobody has called yet
    lead(1, 23, 30, timeframe="1周内", grade="", source="懂车帝")  # S by timeframe, due D (created + 1 h)
    lead(0, 9, 15, grade="A", source="汽车之家")  # due D
    lead(0, 23, 30, grade="B", source="抖音")  # due D+1: not on D's list yet
    lead(1, 14, 5, timeframe="3个月内", grade="", source="易车")  # C, due D
    lead(3, 11, 0, grade="D", timeframe="半年内", source="官网")  # D: 48 h, due D-1
    lead(1, 16, 40, advisor_id=sd.ghost_id, source="汽车之家")  # advisor not on the roster: orphaned
    lead(1, 10, 20, do_not_contact=True, source="抖音")  # 勿扰: no task

    # followup: due from the grade/stage interval or from the advisor's own plan
    s1 = lead(9, 10, 0, grade="S", status="线索")  # S, last touch D-1 → due D
    log(s1, 9, "已接通", 10, 45)
    log(s1, 1, "已接通", 15, 20)
    a3 = lead(15, 11, 0, grade="A", status="意向")  # A / intent, last touch D-3 → due D
    log(a3, 15, "已接通", 11, 40)
    log(a3, 3, "预约到店")
    b3 = lead(20, 14, 0, grade="", timeframe="1个月内", status="意向")  # B by timeframe → due D
    log(b3, 20, "已接通", 15, 0)
    log(b3, 10, "未接通")
    log(b3, 3, "已接通", 16, 10)
    c7 = lead(25, 9, 30, grade="C", status="线索")  # C / lead stage: 7 days → due D
    log(c7, 25, "未接通", 10, 0)
    log(c7, 7, "已接通")
    d7 = lead(40, 19, 0, grade="D", timeframe="半年内", status="线索")  # D: 7 days → due D
    log(d7, 39, "已接通")
    log(d7, 7, "未接通", 17, 5)
    plan_today = lead(16, 13, 0, grade="C", status="线索")  # advisor planned D (earlier than D+5)
    log(plan_today, 16, "已接通", 14, 0)
    log(plan_today, 2, "已接通", next_at=d)
    plan_past = lead(20, 10, 0, grade="B", status="意向")  # advisor planned D-4 (earlier than D-3): overdue
    log(plan_past, 20, "已接通", 11, 0)
    log(plan_past, 6, "预约到店", next_at=d - _days(4))
    drive = lead(18, 15, 0, grade="B", status="意向")  # test drive 2 days ago: negotiating, 1 day → due D-1
    log(drive, 18, "已接通", 15, 30)
    log(drive, 9, "预约到店")
    log(drive, 2, "已试驾", 14, 0)
    unreachable = lead(14, 9, 0, grade="A", status="线索")  # three missed calls: A → B, due D-1
    log(unreachable, 14, "已接通", 9, 40)
    log(unreachable, 9, "未接通")
    log(unreachable, 7, "未接通", 16, 0)
    log(unreachable, 4, "未接通", 11, 15)
    regraded = lead(8, 10, 0, grade="C", status="线索")  # a follow-up's 1周内 beats the lead row's C
    log(regraded, 8, "已接通", 10, 50)
    log(regraded, 2, "已接通", timeframe="1周内")
    dormant = lead(60, 16, 0, status="意向")  # 暂不考虑 30 days ago → due D
    log(dormant, 60, "已接通", 16, 30)
    log(dormant, 45, "已到店")
    log(dormant, 30, "暂不考虑", summary="客户表示暂不需要，一个月后再联系")
    by_phone = lead(11, 12, 0, grade="A", status="意向")  # last touch names the lead by phone only
    log(by_phone, 11, "已接通", 12, 30)
    log(by_phone, 3, "已接通", phone_only=True)
    lost = lead(30, 10, 0, status="战败", lost_reason="选择竞品", competitor=rng.choice(COMPETITORS))
    log(lost, 30, "已接通", 11, 0)
    log(lost, 20, "已试驾")
    log(lost, 5, "战败", summary="客户已购" + lost.competitor)
    left = gone.departed or d
    orphan = lead((d - left).days + 20, 10, 0, advisor_id=gone.advisor_id, grade="B", status="意向")
    log(orphan, (d - left).days + 20, "已接通", 11, 0)  # owner left: the open lead goes to the manager
    log(orphan, (d - left).days + 2, "已接通")


def plant_sales(rng: random.Random, group: Group, sd: StoreData) -> None:
    """Orders whose dates make delivery_confirm, post_delivery_*, care_call, anniversary... due on D."""
    d = sd.as_of
    one_year_ago = _same_day_years_ago(d, 1)

    def sale(
        ordered_ago: int,
        *,
        delivered_ago: int | None = None,
        planned_in: int | None = None,
        status: str | None = None,
        calls_ago: Sequence[int] = (),
    ) -> Sale:
        ordered_on = d - _days(ordered_ago)
        created = datetime.combine(ordered_on - _days(rng.randint(3, 20)), _work_time(rng))
        lead = new_lead(rng, group, created, rng.choice(sd.active_sales).advisor_id)
        lead.planted, lead.do_not_contact = True, False
        sd.leads.append(lead)
        delivered = d - _days(delivered_ago) if delivered_ago is not None else None
        planned = d + _days(planned_in) if planned_in is not None else (delivered or ordered_on + _days(20))
        state = status or ("已交车" if delivered else "已订车")
        made = make_sale(rng, group, sd, lead, ordered_on, planned=planned, delivered=delivered, status=state)
        made.planted = True
        for days_ago in calls_ago:
            call = rng.choice(DELIVERY_CALL_SUMMARIES)
            touch(rng, lead, _at(d - _days(days_ago), 10, 5), "已接通", summary=call)
        _trim_followups(lead)
        return made

    sale(25, delivered_ago=1)  # post_delivery_d1 due D
    sale(20, delivered_ago=2, calls_ago=(1,))  # d1 was due D-1 and is closed by the call on D-1
    sale(30, delivered_ago=3)  # post_delivery_d3 due D (d1 still open: due D-2, open until D+5)
    sale(28, delivered_ago=7, calls_ago=(6, 4))  # d1 and d3 closed; post_delivery_d7 due D
    sale(50, delivered_ago=30)  # post_delivery_d30 due D
    sale(110, delivered_ago=90)  # owner from D on; care_call due D (delivery + 90)
    sale(170, delivered_ago=150)  # first_maintenance due D: no 首保 order
    anniversary = sale((d - one_year_ago).days + 18, delivered_ago=(d - one_year_ago).days)
    sale(12, planned_in=1)  # delivery_confirm due D
    sale(6, planned_in=5)  # delivery_confirm due D+4: not yet
    birthday = sale(9, planned_in=12)  # a won customer whose birthday is D
    birthday.birthday = date(1988, d.month, d.day)  # 1988 is a leap year, so 29 Feb works too
    birthday.lead.show_birthday = False
    sale(40, status="已退订")
    spouse = sale(220, delivered_ago=200)  # the workshop knows this car under the spouse's phone
    plant_service_for_sale(rng, group, sd, anniversary, [(150, "首保"), (330, "定保")], spouse=False)
    plant_service_for_sale(rng, group, sd, spouse, [(150, "首保")], spouse=True)


def _same_day_years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 Feb
        return day.replace(year=day.year - years, day=28)


def plant_service_for_sale(
    rng: random.Random,
    group: Group,
    sd: StoreData,
    sale: Sale,
    offsets: Sequence[tuple[int, str]],
    *,
    spouse: bool,
) -> None:
    assert sale.delivered is not None
    car = car_for_sale(rng, group, sd, sale, spouse=spouse)
    plan = [(sale.delivered + _days(n), kind) for n, kind in offsets if sale.delivered + _days(n) <= sd.as_of]
    for visit in add_visits(rng, sd, car, plan):
        _make_calm(rng, visit, visit.advisor_id or sd.service_team[0].advisor_id)


def _make_calm(rng: random.Random, visit: Visit, advisor_id: str) -> None:
    """A planted visit: no complaint, a good score, a named service advisor, no follow-up logged."""
    visit.planted = True
    visit.complaint, visit.complaint_text, visit.csat = "否", "", rng.randint(90, 100)
    visit.advisor_id = advisor_id


def plant_service(rng: random.Random, group: Group, sd: StoreData) -> None:
    """Service-only customers whose visits make revisit, complaint, care_call and win_back due."""
    d = sd.as_of
    advisor = sd.service_team[0].advisor_id

    def customer(visits: Sequence[tuple[int, str]]) -> list[Visit]:
        car = service_only_car(rng, group, sd, d - _days(visits[0][0]))
        made = add_visits(rng, sd, car, [(d - _days(n), kind) for n, kind in visits])
        for visit in made:
            _make_calm(rng, visit, advisor)
        return made

    customer([(200, "保养"), (3, "保养")])  # post_service_revisit due D
    complaint = customer([(180, "定保"), (4, "维修")])[-1]  # complaint 4 days ago, nobody called
    complaint.complaint, complaint.complaint_text, complaint.csat = "是", COMPLAINT_TEXTS[1], 40
    unhappy = customer([(2, "保养")])[-1]  # 1-5 scale, 2 of 5: a complaint without the flag
    unhappy.csat = 2
    customer([(560, "保养"), (365, "定保")])  # last visit exactly a year ago: win_back due D
    customer([(290, "保养"), (90, "维修")])  # last visit 90 days ago: care_call due D


def plant_dirty_cells(rng: random.Random, sd: StoreData) -> None:
    """Cells a robust reader must accept: a phone with spaces, a slash date-time text, a 年月日 date text."""
    plain_leads = [lead for lead in sd.leads if not lead.planted]
    spaced, texted = rng.sample(plain_leads, 2)
    p = spaced.phone
    spaced.phone_text = f"{p[:3]} {p[3:7]} {p[7:]} "
    c = texted.created_at
    texted.created_text = f"{c.year}/{c.month}/{c.day} {c.hour}:{c.minute:02d}"
    plain_sales = [s for s in sd.sales if not s.planted and s.delivered]
    if plain_sales:
        dated = rng.choice(plain_sales)
        o = dated.ordered_on
        dated.ordered_text = f"{o.year}年{o.month}月{o.day}日"


# --------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------

WIDE_COLUMNS = {
    "留资时间": 18, "跟进时间": 18, "车架号": 20, "邮箱": 26, "沟通内容": 36, "投诉内容": 30, "手机号": 18,
}  # fmt: skip


def write_xlsx(
    path: Path, sheet: str, headers: Sequence[str], rows: Iterable[Sequence[object]], title: str | None = None
) -> Path:
    """Stream rows into a one-sheet workbook; a merged title row and a blank row may sit above the header."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    for col, header in enumerate(headers, start=1):
        width = WIDE_COLUMNS.get(header, max(10, 2 * len(header) + 4))
        ws.column_dimensions[get_column_letter(col)].width = width
    if title:
        ws.merged_cells.add(f"A1:{get_column_letter(len(headers))}1")
        ws.append([title])
        ws.append([])
    ws.append(list(headers))
    for row in rows:
        ws.append([None if value == "" else value for value in row])
    wb.save(path)
    return path


def _yes_no(flag: bool) -> str:
    return "是" if flag else "否"


def _fmt_rng(seed: int, name: str) -> random.Random:
    return random.Random(f"genjin:{seed}:format:{name}")


def write_advisors(path: Path, stores: Sequence[StoreData]) -> Path:
    rows = (
        (a.advisor_id, a.name, sd.store.name, a.role, a.email, a.manager_id, _yes_no(a.active), a.capacity)
        for sd in stores
        for a in sd.advisors
    )
    return write_xlsx(path, "顾问名单", ADVISOR_HEADERS, rows)


def write_leads(path: Path, sd: StoreData, seed: int) -> Path:
    rng = _fmt_rng(seed, path.name)
    title = f"{sd.store.name}线索导出（截至{sd.as_of.isoformat()}）"

    def row(lead: Lead) -> tuple[object, ...]:
        return (
            lead.lead_id,
            lead.created_text or lead.created_at,
            lead.name,
            lead.phone_text or format_phone(rng, lead.phone),
            sd.store.name,
            lead.advisor_id,
            lead.source,
            lead.model,
            lead.budget,
            lead.timeframe,
            lead.grade,
            lead.status,
            lead.lost_reason,
            lead.competitor,
            format_phone(rng, lead.referrer_phone) if lead.referrer_phone else "",
            lead.birthday.isoformat() if lead.show_birthday else "",
            lead.gender,
            lead.wechat,
            "是" if lead.do_not_contact else ("否" if rng.random() < 0.3 else ""),
        )

    return write_xlsx(path, "线索", LEAD_HEADERS, (row(lead) for lead in sd.leads), title=title)


def write_followups(path: Path, stores: Sequence[StoreData], seed: int) -> Path:
    """The follow-up log as Chinese Excel saves a CSV: GBK, CRLF, times typed in several ways."""
    rng = _fmt_rng(seed, path.name)
    followups = [f for sd in stores for lead in sd.leads for f in lead.followups]
    followups += [f for sd in stores for f in sd.service_followups]
    followups.sort(key=lambda f: f.at)  # stable: ties keep store/lead order
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FOLLOWUP_HEADERS)
        for f in followups:
            writer.writerow(
                (
                    "" if f.phone_only or f.lead is None else f.lead.lead_id,
                    format_phone(rng, f.phone),
                    f.advisor_id,
                    format_datetime_text(rng, f.at),
                    f.channel,
                    f.outcome,
                    f.summary,
                    format_date_text(rng, f.next_at) if f.next_at else "",
                    f.timeframe,
                    f.grade,
                )
            )
    return path


def write_sales(path: Path, stores: Sequence[StoreData], seed: int) -> Path:
    rng = _fmt_rng(seed, path.name)

    def rows() -> Iterable[tuple[object, ...]]:
        for sd in stores:
            for seq, s in enumerate(sorted(sd.sales, key=lambda s: (s.ordered_on, s.lead.lead_id)), start=1):
                s.order_id = f"{sd.store.code}-XS{seq:05d}"
                yield (
                    s.order_id,
                    format_phone(rng, s.lead.phone),
                    s.lead.name,
                    s.lead.advisor_id,
                    s.ordered_text or s.ordered_on,
                    sd.store.name,
                    s.lead.lead_id,
                    s.vin,
                    s.model,
                    s.color,
                    s.planned,
                    s.delivered,
                    s.status,
                    s.price,
                    format_phone(rng, s.lead.referrer_phone) if s.lead.referrer_phone else "",
                    s.birthday,
                )

    return write_xlsx(path, "销售订单", SALES_HEADERS, rows())


def write_service(path: Path, stores: Sequence[StoreData], seed: int) -> Path:
    rng = _fmt_rng(seed, path.name)

    def rows() -> Iterable[tuple[object, ...]]:
        for sd in stores:
            for seq, v in enumerate(sd.visits, start=1):
                v.ro_id = f"{sd.store.code}-RO{seq:06d}"
                yield (
                    v.ro_id,
                    v.visited,
                    sd.store.name,
                    v.car.vin,
                    format_phone(rng, v.car.phone) if v.car.phone else "",
                    v.car.plate,
                    v.car.name,
                    v.kind,
                    v.amount,
                    v.mileage,
                    v.advisor_id,
                    v.csat,
                    v.complaint,
                    v.complaint_text,
                )

    return write_xlsx(path, "工单", SERVICE_HEADERS, rows())

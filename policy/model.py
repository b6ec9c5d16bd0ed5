"""The follow-up policy (SPEC §5–§7) as a typed object read from TOML.

The defaults ship as `policy/default.toml`; a dealership passes its own file with `--policy`, holding only what
it changes (laid over the default, policy/loading.py). Unknown keys and bad values stop the run with a message in
Chinese and English that names the key.
"""

from __future__ import annotations

import tomllib
from datetime import date, time
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policy.loading import SHIPPED, PolicyError, explain, layered

STAGES = ("owner", "won", "lost", "dormant", "negotiating", "intent", "lead")
PIPELINE_STAGES = ("lead", "intent", "negotiating", "dormant")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeframeBand(_Strict):
    grade: str
    max_days: int = Field(gt=0)


class Grades(_Strict):
    order: list[str] = Field(min_length=1)
    default: str
    unreached_outcome: str = "未接通"
    unreached_streak: int = Field(default=3, ge=1)
    timeframe: list[TimeframeBand]
    phrases: dict[str, int] = {}

    @model_validator(mode="after")
    def _known_grades(self) -> Self:
        unknown = {self.default, *(b.grade for b in self.timeframe)} - set(self.order)
        if unknown:
            raise ValueError(f"grades not listed in grades.order: {sorted(unknown)}")
        days = [b.max_days for b in self.timeframe]
        if days != sorted(days):
            raise ValueError("grades.timeframe must go from the shortest max_days to the longest")
        return self

    def lower(self, grade: str) -> str:
        i = self.order.index(grade)
        return self.order[min(i + 1, len(self.order) - 1)]


class Stages(_Strict):
    owner_after_delivery_days: int = Field(ge=0)
    won_statuses: list[str] = []
    lost_statuses: list[str]
    lost_outcomes: list[str]
    dormant_outcomes: list[str]
    negotiating_statuses: list[str]
    negotiating_outcomes: list[str]
    negotiating_window_days: int = Field(ge=0)
    intent_statuses: list[str]
    cancelled_order_statuses: list[str]


class Complaint(_Strict):
    priority: int
    csat_below_5: float
    csat_below_100: float


class FirstContact(_Strict):
    priority: int
    due_hours: dict[str, int]


class PriorityRule(_Strict):
    stages: list[str] = []
    grades: list[str] = []
    priority: int


class Followup(_Strict):
    grade_interval_days: dict[str, int]
    stage_interval_days: dict[str, int]
    priority: list[PriorityRule] = Field(min_length=1)
    # a day sequence (e.g. 1-1-2-3-7-7-15 then 3-7-3-7): the n-th follow-up's interval, used instead of the
    # grade and stage intervals when set; past its end `sequence_repeat_days` repeats (else the last one)
    sequence_days: list[int] = []
    sequence_repeat_days: list[int] = []

    @model_validator(mode="after")
    def _known_stages(self) -> Self:
        unknown = set(self.stage_interval_days) - set(PIPELINE_STAGES)
        if unknown:
            raise ValueError(f"stage_interval_days: unknown stages {sorted(unknown)}; use {PIPELINE_STAGES}")
        if any(d <= 0 for d in [*self.sequence_days, *self.sequence_repeat_days]):
            raise ValueError("sequence_days / sequence_repeat_days: every interval must be at least 1 day")
        if self.sequence_repeat_days and not self.sequence_days:
            raise ValueError("sequence_repeat_days needs sequence_days")
        return self


class PostDelivery(_Strict):
    priority: int
    open_days: int = Field(ge=0)
    offsets: dict[str, int]


class PostServiceRevisit(_Strict):
    priority: int
    offset_days: int = Field(ge=0)
    open_days: int = Field(ge=0)


class DeliveryConfirm(_Strict):
    priority: int = 3
    days_before: int = Field(default=1, ge=0)  # due planned_delivery_at − this many days, while not delivered


class FirstMaintenance(_Strict):
    priority: int = 6
    offset_days: int = Field(default=150, ge=0)  # due delivered_at + this, while no such service order
    service_types: list[str] = Field(default=["首保"], min_length=1)


class OwnerCare(_Strict):
    """`care_call` while the later of (last service visit, delivery) is less than `lapsed_days` before D, due
    at the last touch + `care_interval_days`; `win_back` once it is `lapsed_days` or more, due at the later of
    (that date + `lapsed_days`) and (the last follow-up + `win_back_interval_days`)."""

    care_priority: int = 8
    care_interval_days: int = Field(default=90, gt=0)
    win_back_priority: int = 6
    lapsed_days: int = Field(default=365, gt=0)
    win_back_interval_days: int = Field(default=90, gt=0)


class TradeIn(_Strict):
    priority: int = 7
    years: int = Field(default=3, gt=0)  # calendar years after delivery (29 Feb → 28 Feb)
    days_before: int = Field(default=30, ge=0)
    open_days: int = Field(default=60, ge=0)


class Greeting(_Strict):
    priority: int = 7


class PromisedCall(_Strict):
    priority: int = 4  # a promise to a customer with no open lead (SPEC §6b): 约定回访 on the promised day


class Promises(_Strict):
    """What an advisor agreed with a customer (SPEC §6b): the latest follow-up's next_followup_at, held at
    that follow-up + `max_promise_days`; a follow-up whose outcome is one of `visit_outcomes` promised a visit."""

    max_promise_days: int = Field(default=90, gt=0)
    visit_outcomes: list[str] = ["预约到店"]


class Tasks(_Strict):
    complaint: Complaint
    first_contact: FirstContact
    followup: Followup
    post_delivery: PostDelivery
    post_service_revisit: PostServiceRevisit
    delivery_confirm: DeliveryConfirm = DeliveryConfirm()
    first_maintenance: FirstMaintenance = FirstMaintenance()
    owner_care: OwnerCare = OwnerCare()
    trade_in: TradeIn = TradeIn()
    birthday: Greeting = Greeting()
    anniversary: Greeting = Greeting()
    promised_call: PromisedCall = PromisedCall()


def public_holiday_dates(calendar: str, years: range) -> list[date]:
    """The public holidays of `calendar` (the `holidays` package) in `years`; "none" → none."""
    if calendar == "none":
        return []
    import holidays

    return sorted(holidays.country_holidays(calendar, years=list(years)).keys())


class Calendar(_Strict):
    """Closed days (SPEC §6): a due date on a closed day moves to the next open day. Weekdays 1 = Monday …
    7 = Sunday. `closed_dates` is filled by the loader from `public_holidays` for `holiday_years`, plus any
    dates listed in the file."""

    closed_weekdays: list[int] = []
    public_holidays: Literal["none", "CN"] = "none"
    holiday_years: tuple[int, int] = (2020, 2035)
    closed_dates: list[date] = []

    @model_validator(mode="before")
    @classmethod
    def _expand_holidays(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("public_holidays", "none") != "none":
            first, last = data.get("holiday_years", (2020, 2035))
            listed = list(data.get("closed_dates", []))
            data = data | {"closed_dates": listed + public_holiday_dates(data["public_holidays"],
                                                                           range(first, last + 1))}
        return data

    @model_validator(mode="after")
    def _some_day_open(self) -> Self:
        bad = [d for d in self.closed_weekdays if not 1 <= d <= 7]
        if bad:
            raise ValueError(f"calendar.closed_weekdays: {bad} — use 1 (Monday) … 7 (Sunday)")
        if len(set(self.closed_weekdays)) == 7:
            raise ValueError("calendar.closed_weekdays: the store cannot be closed every day")
        return self


class Hours(_Strict):
    """Store opening hours: a lead arriving outside them is measured from the next opening for
    `first_contact`. Off when not set."""

    open: time
    close: time

    @model_validator(mode="after")
    def _open_before_close(self) -> Self:
        if self.open >= self.close:
            raise ValueError("hours: open must be before close")
        return self


class Alerts(_Strict):
    """Intraday alerts (issue #18): a new lead whose first-contact time is shorter than `within_hours` alerts
    its advisor at once; still without a follow-up at its call-by time, it alerts the store's manager. Nothing
    is sent between `quiet_from` and `quiet_until` (an alert due then goes out at the first run after)."""

    within_hours: int = Field(default=24, gt=0)  # first_contact.due_hours below this → an alert (S/A: 1 h)
    phone: Literal["masked", "full"] = "full"  # the customer's phone in an alert email; group chats: always masked
    quiet_from: time = time(21, 30)
    quiet_until: time = time(8, 0)


class Targets(_Strict):
    """KPI targets from the seeds, drawn as reference lines in the report (rates are fractions 0–1)."""

    retention_1y_min: float = Field(default=0.75, ge=0, le=1)
    referral_rate_min: float = Field(default=0.30, ge=0, le=1)
    csat_mean_min: float = Field(default=90, ge=0, le=100)
    churn_1y_max: float = Field(default=0.25, ge=0, le=1)


class RfmSegment(_Strict):
    """One RFM rule; a customer matches when every bound holds (recency in days since the last visit, visits
    and mean ticket over the window, the ticket as a multiple of the store's average ticket)."""

    name: str
    max_recency_days: int = Field(ge=0)
    min_visits: int = Field(default=1, ge=1)
    max_visits: int | None = Field(default=None, ge=1)
    min_ticket_ratio: float = Field(default=0, ge=0)


class Rfm(_Strict):
    """Service segments (SPEC §7): first matching segment wins; an owner matching none is `fallback`."""

    window_days: int = Field(default=365, gt=0)
    churn_days: int = Field(default=365, gt=0)  # no service visit in this many days → churned (some: 180)
    segments: list[RfmSegment] = [
        RfmSegment(name="high_value", max_recency_days=90, min_visits=2, min_ticket_ratio=1.5),
        RfmSegment(name="potential", max_recency_days=180, min_visits=1, max_visits=1, min_ticket_ratio=1.0),
        RfmSegment(name="regular", max_recency_days=365, min_visits=1),
    ]
    fallback: str = "lost"

    @model_validator(mode="after")
    def _inside_window(self) -> Self:
        wide = [s.name for s in self.segments if s.max_recency_days > self.window_days]
        if wide:
            raise ValueError(f"rfm.segments {wide}: max_recency_days is longer than rfm.window_days")
        return self


class Review(_Strict):
    """The manager's morning (issue #16): the chase list, the review workbook's proposals, and when a rate is
    judged. (Capacities and stale work are the plan's, `[plan]`.)"""

    hot_grades: list[str] = ["S", "A"]  # the digest's chase list names these grades' overdue follow-ups
    lost_reason: str = "逾期{days}天未跟进，经理确认战败"  # the reason proposed with a stale lead's 战败
    min_cases: int = Field(default=10, ge=1)  # a rate from fewer cases is shown grey and not judged
    daily_rows: int = Field(default=30, ge=1)  # the review workbook's rows per manager a day; the rest wait
    lost_idle_days: int = Field(default=90, ge=1)  # the 未跟进天数 proposed with a 整批 战败 of an advisor's leads


TASK_TYPES = (  # SPEC §6: the names a policy may key per task type ([plan.stale_after_days], urgency classes)
    "complaint", "first_contact", "followup", "delivery_confirm", "post_delivery_d1", "post_delivery_d3",
    "post_delivery_d7", "post_delivery_d30", "post_service_revisit", "first_maintenance", "win_back", "care_call",
    "trade_in", "birthday", "anniversary", "promised_call",
)


class UrgencyClass(_Strict):
    """One step of the advisor's daily plan (issue #15). A task belongs to the first class it matches: its
    task type is listed (or the class lists none), its customer's grade is listed (or the class lists none), and,
    with `closes_within_days`, its window (open_until) closes within that many days of D — or, with `promised`,
    the task is due on the day the customer was promised (transforms/promises.py). Within a class,
    customers are ordered by `order`: `priority` (the task's policy priority), `closes` (soonest window end
    first), `value` (`[plan.value]`, best first), `overdue` (longest overdue first)."""

    name: str  # a code, for worklist.csv's `urgency` column
    label: str  # what the advisor reads
    task_types: list[str] = []
    grades: list[Literal["S", "A", "B", "C", "D"]] = []  # a lead's grade (an owner has none)
    closes_within_days: int | None = Field(default=None, ge=0)
    promised: bool = False  # also every task due on the day the customer was promised (下次跟进时间), any type
    order: list[Literal["priority", "closes", "value", "overdue"]] = Field(default=["priority"], min_length=1)
    colour: str | None = None  # the row's fill in the workbook and email (#RRGGBB); none = uncoloured


class Plan(_Strict):
    """The advisor's daily plan (issue #15): at most `daily_capacity` customers (the roster's 每日上限, else
    `default_capacity` of the advisor's role, else `fallback_capacity`), in the order of `urgency`."""

    default_capacity: dict[Literal["sales", "service", "manager"], int] = {"sales": 40, "service": 40, "manager": 20}
    fallback_capacity: int = Field(default=30, ge=0)  # an advisor the roster does not list
    roster_capacity: bool = True  # false: ignore the roster's 每日上限 and use default_capacity for everyone
    escalate_after_nights: int = Field(default=3, ge=0)  # carried more nights than this → escalated
    stale_after_days: dict[str, int] = {}  # per task type: overdue longer than this → the manager's review
    value: dict[str, int] = {}  # grade or RFM segment → rank (1 = most valuable); others after all listed
    urgency: list[UrgencyClass] = Field(min_length=1)

    @model_validator(mode="after")
    def _catch_all_last(self) -> Self:
        last = self.urgency[-1]
        if last.task_types or last.grades or last.closes_within_days is not None:
            raise ValueError("plan.urgency: the last class must take every task (no task_types, grades or "
                             "closes_within_days)")
        if len({c.name for c in self.urgency}) != len(self.urgency):
            raise ValueError("plan.urgency: class names must be unique")
        named = [*self.stale_after_days, *(t for c in self.urgency for t in c.task_types)]
        unknown = sorted({t for t in named if t not in TASK_TYPES})
        if unknown:
            raise ValueError(f"plan: unknown task type(s) {', '.join(unknown)}; known: {', '.join(TASK_TYPES)}")
        if any(v < 0 for v in [*self.default_capacity.values(), *self.stale_after_days.values()]):
            raise ValueError("plan: capacities and stale_after_days must be 0 or more")
        return self


def default_plan() -> Plan:
    return Plan.model_validate(tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))["plan"])


class Policy(_Strict):
    plan: Plan = Field(default_factory=default_plan)
    grades: Grades
    stages: Stages
    tasks: Tasks
    targets: Targets = Targets()
    rfm: Rfm = Rfm()
    calendar: Calendar = Calendar()
    hours: Hours | None = None
    alerts: Alerts = Alerts()
    review: Review = Review()
    promises: Promises = Promises()
    report_language: Literal["zh", "en"] = "zh"
    # talk tracks (话术): a hint per task_type for the advisor's workbook; default: the shipped ones
    talk_tracks: dict[str, str] = Field(
        default_factory=lambda: tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))["talk_tracks"]
    )

    @model_validator(mode="after")
    def _every_grade_has_rules(self) -> Self:
        for key, table in {
            "tasks.first_contact.due_hours": self.tasks.first_contact.due_hours,
            "tasks.followup.grade_interval_days": self.tasks.followup.grade_interval_days,
        }.items():
            missing = set(self.grades.order) - set(table)
            if missing:
                raise ValueError(f"{key}: no value for grades {sorted(missing)}")
        return self


DEFAULT_POLICY: Traversable = SHIPPED / "default.toml"


def load_policy(path: Path | str | None = None) -> Policy:
    """The shipped default, or the store's file `path` laid over its base (policy/loading.py)."""
    source = DEFAULT_POLICY if path is None else Path(path)
    data = layered(source, Policy)
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        raise PolicyError(explain(source, err.errors(), Policy)) from err


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, inner in value.items():
            out |= _flat(inner, f"{prefix}.{key}" if prefix else str(key))
        return out
    return {prefix: value}


def differences(current: Policy, proposed: Policy) -> list[tuple[str, object, object]]:
    """The policy keys whose values differ, as the TOML names them (`tasks.followup.grade_interval_days.C`),
    with the current and the proposed value (None where one side has no such key); `talk_tracks` left out."""
    a, b = (_flat(p.model_dump(mode="json", exclude={"talk_tracks"})) for p in (current, proposed))
    return [(key, a.get(key), b.get(key)) for key in sorted(a.keys() | b.keys()) if a.get(key) != b.get(key)]


def opening_hours(text: str) -> tuple[time, time]:
    """`08:30-21:00` → (08:30, 21:00); raises ValueError."""
    opens, _, closes = text.strip().partition("-")
    return time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip())

"""The follow-up policy (SPEC §5–§7) as a typed object read from TOML.

The defaults ship as `genjin/policies/default.toml`; a dealership passes its own file with `--policy`. Unknown
keys and bad values stop the run with a message that names the key.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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

    @model_validator(mode="after")
    def _known_stages(self) -> Self:
        unknown = set(self.stage_interval_days) - set(PIPELINE_STAGES)
        if unknown:
            raise ValueError(f"stage_interval_days: unknown stages {sorted(unknown)}; use {PIPELINE_STAGES}")
        return self


class PostDelivery(_Strict):
    priority: int
    open_days: int = Field(ge=0)
    offsets: dict[str, int]


class PostServiceRevisit(_Strict):
    priority: int
    offset_days: int = Field(ge=0)
    open_days: int = Field(ge=0)


class Tasks(_Strict):
    complaint: Complaint
    first_contact: FirstContact
    followup: Followup
    post_delivery: PostDelivery
    post_service_revisit: PostServiceRevisit


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


class Policy(_Strict):
    grades: Grades
    stages: Stages
    tasks: Tasks
    targets: Targets = Targets()
    rfm: Rfm = Rfm()
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


class PolicyError(Exception):
    """A policy file that cannot be used; the message names the file, the key and the problem."""


DEFAULT_POLICY = files("genjin") / "policies" / "default.toml"


def load_policy(path: Path | str | None = None) -> Policy:
    source = DEFAULT_POLICY if path is None else Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise PolicyError(f"策略文件不存在 / policy file not found: {source}") from err
    except tomllib.TOMLDecodeError as err:
        raise PolicyError(f"策略文件格式错误 / policy file is not valid TOML: {source}: {err}") from err
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in err.errors()
        )
        raise PolicyError(f"策略文件有误 / invalid policy {source}: {problems}") from err

"""One settings object: where the data lives, the policy in force, the language.

Settings come from the environment (prefix `OJA_`) or a `.env` file. Policy
(cadences, service norms, deadlines) comes from a TOML file named by
`OJA_POLICY_FILE`, validated; anything not in the file keeps its default.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.decisions import DecisionPolicy
from models.errors import InvalidInput

PROJECT_DIR = Path(__file__).resolve().parent.parent

# A case's runs in the Prefect UI: its Runs page, searched for the case reference (every step's run is named after it,
# and tagged with it). `flow-run-search` is the query the Prefect 3.8 UI (V1, the one the gateway serves) reads.
CASE_RUNS_PAGE = "/runs?flow-run-search={case_ref}"
DOSSIER_URL = "http://127.0.0.1:4201"  # where `oja start` serves the dossier by default
DOSSIER_URL_FILE = "dossier-url"  # in OJA_HOME: the address the last `oja start` serves people at


def prefect_ui_url(environ: Mapping[str, str] = os.environ) -> str:
    """The address of the Prefect UI people open: PREFECT_UI_URL (what `oja start` gives its processes), else the
    gateway's, `/prefect` on the dossier's address (Prefect's own port is for the engine's processes only)."""
    ui = environ.get("PREFECT_UI_URL", "").strip()
    return (ui or dossier_url(environ) + "/prefect").rstrip("/")


def case_runs_url(case_ref: str, environ: Mapping[str, str] = os.environ) -> str:
    """The case's runs in the Prefect UI."""
    return prefect_ui_url(environ) + CASE_RUNS_PAGE.format(case_ref=case_ref)


def dossier_url(environ: Mapping[str, str] = os.environ, home: Path | None = None) -> str:
    """The address people open the dossier at, one setting for every process (workers, the `oja` commands, a shell):
    OJA_DOSSIER_URL when set (behind the region's TLS proxy), else what `oja start` recorded in OJA_HOME (the port
    it serves), else the default local address."""
    explicit = environ.get("OJA_DOSSIER_URL", "").strip()
    return (explicit or recorded_dossier_url(home or _home(environ)) or DOSSIER_URL).rstrip("/")


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("OJA_HOME", "").strip() or PROJECT_DIR / "var")


def recorded_dossier_url(home: Path) -> str:
    """The address `oja start` recorded in `home`; empty when none was."""
    try:
        return (home / DOSSIER_URL_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def record_dossier_url(home: Path, url: str) -> None:
    """`oja start` records the address it serves people at, for every process that reads `dossier_url`."""
    (home / DOSSIER_URL_FILE).write_text(url.rstrip("/") + "\n", encoding="utf-8")


def default_case_url(environ: Mapping[str, str] = os.environ, home: Path | None = None) -> str:
    """Where a reminder's link opens a case: its page in the dossier (after login)."""
    return dossier_url(environ, home) + "/casus/{case_ref}"


class Policy(BaseModel):
    """Policy of the region. Every figure has a validated default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    review_cadence_weeks: int = Field(6, ge=1, le=26, description="school weeks between reviews")
    triage_norm_school_days: int = Field(10, ge=1, le=60, description="service norm from signal to triage")
    plan_deadline_school_days: int = Field(15, ge=1, le=60, description="from triage to a drafted plan")
    consent_deadline_school_days: int = Field(10, ge=1, le=60, description="from plan to complete consent")
    reminder_school_days: tuple[int, ...] = Field((5, 1), description="reminders this many school days before")
    triage_reminder_school_days: tuple[int, ...] = Field((2,), description="triage reminders before the norm ends")
    weekly_digest_weekday: int = Field(0, ge=0, le=4, description="0 Monday .. 4 Friday")
    referral_followup_school_days: int = Field(5, ge=1, le=60, description="unanswered referral: remind")
    referral_check_school_days: int = Field(
        30, ge=5, le=120, description="accepted referral: check with the district team whether the pupil can return"
    )
    planned_end_warning_school_days: int = Field(
        10, ge=1, le=60, description="warn the regie holder this many school days before a plan's planned end"
    )
    overdue_escalation_school_days: int = Field(5, ge=1, le=60, description="overdue review goes to team lead")
    max_hours_per_week: float = Field(20.0, gt=0, le=40, description="most hours a week in one intervention")
    max_plan_weeks: int = Field(104, ge=4, le=260, description="longest planned duration of a plan")
    default_holiday_region: Literal["noord", "midden", "zuid"] = "noord"
    # decision support at reviews (models.decisions)
    on_track_from: float = Field(0.0, ge=-2, le=2, description="every goal at least this GAS: on track")
    no_progress_up_to: float = Field(-1.0, ge=-2, le=2, description="mean GAS at most this: little progress")
    goals_met_from: float = Field(1.0, ge=-2, le=2, description="every goal at least this GAS: goals met")
    consecutive_reviews: int = Field(2, ge=1, le=6, description="reviews in a row before scaling")
    min_days_between_reviews: int = Field(
        14,
        ge=1,
        le=91,
        description="reviews counted in a row for a trend: this many days apart, at most half the"
        " case's review period (models.decisions.trend_reviews)",
    )
    closing_answer_school_days: int = Field(
        20, ge=5, le=60, description="after closing, the family may answer the two outcome questions this long"
    )
    min_measurements: int = Field(6, ge=4, le=50, description="data points before the four-point rule")
    hourly_rate_eur: float = Field(85.0, gt=0, le=500, description="cost of an hour of youth care in school")
    budget_swv_eur: float = Field(0.0, ge=0, description="the SWV's yearly budget for OJA (0: none set)")
    budget_municipality_eur: dict[str, float] = Field(default_factory=dict, description="GMxxxx -> yearly budget")
    evaluation_split_date: dt.date | None = Field(None, description="the pilot started: compare before and after")
    retention_years: int = Field(20, ge=20, le=115, description="a dossier is kept this long after its last change")
    erasure_decision_months: int = Field(3, ge=1, le=3, description="an erasure request is decided within")
    erasure_reminder_school_days: tuple[int, ...] = Field((10, 2), description="erasure reminders before the deadline")
    decision_due_school_days: int = Field(1, ge=0, le=20, description="from a review to its decision: remind")
    # the family's own view at a review (issue 26, models.family_opinion)
    family_view_school_days: int = Field(
        10, ge=1, le=30, description="the pupil and the parents give their view from this many school days before"
    )
    family_view_reminder_school_days: int = Field(
        3, ge=0, le=29, description="remind whoever has not given their view this many school days before a review"
    )

    def decision_policy(self, review_cadence_weeks: int | None = None) -> DecisionPolicy:
        """The rules of decision support; for a case reviewed every `review_cadence_weeks` school weeks (else the
        policy's), reviews counted in a row lie `min_days_between_reviews` apart, or half that period if less."""
        period_days = 7 * (review_cadence_weeks or self.review_cadence_weeks)
        return DecisionPolicy(
            on_track_from=self.on_track_from,
            no_progress_up_to=self.no_progress_up_to,
            goals_met_from=self.goals_met_from,
            consecutive_reviews=self.consecutive_reviews,
            min_days_between_reviews=max(1, min(self.min_days_between_reviews, period_days // 2)),
            min_measurements=self.min_measurements,
            planned_end_warning_school_days=self.planned_end_warning_school_days,
        )

    @model_validator(mode="after")
    def _family_reminder_inside_the_window(self) -> Policy:
        if self.family_view_reminder_school_days >= self.family_view_school_days:
            raise ValueError(
                "family_view_reminder_school_days moet kleiner zijn dan family_view_school_days"
                f" ({self.family_view_school_days}): de herinnering komt nadat de vraag om een mening is verstuurd"
            )
        return self

    @field_validator("reminder_school_days", "triage_reminder_school_days")
    @classmethod
    def _positive_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 1 or d > 30 for d in value):
            raise ValueError("een herinnering moet 1 tot en met 30 schooldagen voor de termijn liggen")
        return tuple(sorted(set(value), reverse=True))


class DispatchOptions(TypedDict):
    lease: dt.timedelta
    retry_after: dt.timedelta
    concurrency: int


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OJA_", env_file=".env", extra="ignore")

    home: Path = PROJECT_DIR / "var"
    database_url: str = ""  # empty: a SQLite file in `home`
    policy_file: Path | None = None
    language: Literal["nl", "en"] = "nl"
    # notifications: an Apprise mailto:// or mailtos:// URL; its password never in the repository.
    # Either set OJA_SMTP_URL, or OJA_SMTP_SECRET_BLOCK to the name of a Prefect Secret block holding it.
    smtp_url: str = ""
    smtp_secret_block: str = ""
    mail_from: str = "oja@localhost"
    # extra Apprise URLs per role, e.g. {"teamleider": ["msteams://..."]} as JSON in OJA_EXTRA_NOTIFY_URLS
    extra_notify_urls: dict[str, list[str]] = {}
    # operators are told when a sweep or dispatch fails: Apprise URLs (mailto://, slack://, msteams://...)
    operator_urls: list[str] = []
    # where a case is looked up (access-controlled); {case_ref} is replaced. Empty: the case's page in the
    # dossier (`default_case_url`, after OJA_DOSSIER_URL)
    case_url: str = ""
    timezone: str = "Europe/Amsterdam"
    # sending: a claimed message is another run's to send again only after the lease (a run that died); a
    # message the mail server refused waits this long before the next attempt
    dispatch_lease_seconds: int = Field(600, ge=5, le=86400)
    dispatch_retry_seconds: int = Field(300, ge=0, le=86400)
    # messages are sent over this many SMTP connections at once (a sending thread each, kept open)
    smtp_connections: int = Field(4, ge=1, le=32)

    @property
    def dispatch_options(self) -> DispatchOptions:
        """The lease, retry wait and connections of `oja.services.dispatch.dispatch`, from the settings."""
        return DispatchOptions(
            lease=dt.timedelta(seconds=self.dispatch_lease_seconds),
            retry_after=dt.timedelta(seconds=self.dispatch_retry_seconds),
            concurrency=self.smtp_connections,
        )

    @model_validator(mode="after")
    def _case_url_default(self) -> Settings:
        if not self.case_url.strip():
            self.case_url = default_case_url(home=self.home)
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'oja.db'}"


def load_policy(path: Path | None) -> Policy:
    """Read and validate a policy file; a wrong value raises `InvalidInput` naming the key."""
    if path is None:
        return Policy()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput("policy_file", f"bestand {path} bestaat niet") from None
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))  # tomllib says where, in English
        at = f" (fout op regel {where[1]}, kolom {where[2]})" if where else ""
        raise InvalidInput("policy_file", f"moet geldige TOML zijn{at}") from None
    try:
        return Policy(**data.get("policy", data))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "policy"
        raise InvalidInput(f"policy.{field}", _policy_rule(err)) from None


# pydantic's refusals of a policy value, in Dutch; {ge}, {le}, ... are the limits pydantic reports.
_POLICY_RULES = {
    "greater_than_equal": "moet minstens {ge} zijn",
    "greater_than": "moet groter zijn dan {gt}",
    "less_than_equal": "mag hoogstens {le} zijn",
    "less_than": "moet kleiner zijn dan {lt}",
    "int_parsing": "moet een geheel getal zijn",
    "int_from_float": "moet een geheel getal zijn",
    "int_type": "moet een geheel getal zijn",
    "float_parsing": "moet een getal zijn",
    "float_type": "moet een getal zijn",
    "date_parsing": "moet een datum zijn (JJJJ-MM-DD)",
    "date_from_datetime_parsing": "moet een datum zijn (JJJJ-MM-DD)",
    "date_type": "moet een datum zijn (JJJJ-MM-DD)",
    "tuple_type": "moet een lijst zijn",
    "dict_type": "moet een tabel zijn",
    "extra_forbidden": "is geen beleidsinstelling",
    "frozen_instance": "kan niet gewijzigd worden",
}


def _policy_rule(err: ErrorDetails) -> str:
    """The rule a policy value breaks, in Dutch (pydantic writes English)."""
    ctx = err.get("ctx", {})
    if err["type"] == "value_error":  # one of the policy's own validators: its message is Dutch
        return str(ctx.get("error", err["msg"]))
    if err["type"] == "literal_error":
        return "moet één van deze codes zijn: " + str(ctx.get("expected", "")).replace(" or ", ", ").replace("'", "")
    template = _POLICY_RULES.get(err["type"])
    return template.format(**ctx) if template else f"is geen geldige waarde ({err['type']})"


@functools.cache
def get_settings() -> Settings:
    return Settings()


def get_policy() -> Policy:
    return load_policy(get_settings().policy_file)

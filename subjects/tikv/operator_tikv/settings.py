"""``TikvSettings``: the ``[tikv]`` section of the operator's settings, validated once here.

The app nests it as ``Settings.tikv`` (environment ``OPERATOR_TIKV__SCRAPE_BUDGET``, TOML
``[tikv]``); ``TikvSubject`` reads its attributes. Thresholds and grace periods of the
invariants sit under ``invariants`` (``OPERATOR_TIKV__INVARIANTS__GRACE_SCALE``,
``[tikv.invariants]``) and validate into ``InvariantSettings``, whose defaults stay with the
checks they tune.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import NoDecode

from operator_tikv.invariants import InvariantSettings

Seconds = Annotated[float, Field(gt=0, le=86_400)]
Period = Annotated[float, Field(ge=0, le=86_400)]


class TikvSettings(BaseModel):
    """Where the cluster is, how it is read, and when a finding becomes a violation."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    flat_aliases: ClassVar[tuple[str, ...]] = (
        "pd",
        "prometheus_url",
        "metrics_source",
        "log_source",
        "log_url",
        "log_dir",
        "scrape_budget",
        "scrape_interval_s",
        "compose_file",
        "compose_project",
    )
    """Settings that were top-level before sections (``OPERATOR_PD``, ``pd = ...`` in TOML)."""

    pd: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:2379"],
        description="PD endpoints, comma-separated; tried in order, the one that answered is preferred.",
    )
    prometheus_url: str | None = Field(
        None,
        description="Prometheus base URL; when unset, metrics are scraped straight from each store.",
    )
    metrics_source: Literal["auto", "prometheus", "direct", "none"] = Field(
        "auto",
        description="Where store metrics come from: prometheus, direct (/metrics of each store), "
        "none, or auto (prometheus when its URL is set, else direct).",
    )
    scrape_budget: int | Literal["auto", "all"] = Field(
        "auto",
        description="Direct metrics: stores whose /metrics one tick reads. auto: each store once per "
        "scrape_interval_s (every store every tick up to 12), suspect stores at once; N: at most N, "
        "suspect first; all (or 0): every store every tick.",
    )
    scrape_interval_s: float = Field(
        15.0,
        ge=0.1,
        le=3600,
        description="Direct metrics, scrape_budget auto: how often each store's /metrics is read, "
        "like Prometheus's scrape_interval.",
    )
    scrape_timeout_s: Seconds = Field(
        2.0, description="Direct metrics: timeout of one /metrics read."
    )
    scrape_client: Literal["stream", "httpx"] = Field(
        "stream",
        description="Direct metrics: stream (kept connections, a dead store seen between reads) or httpx.",
    )
    scrape_max_page_chars: int = Field(
        16 << 20,
        ge=64 << 10,
        le=1 << 30,
        description="Direct metrics: longest /metrics page read, in characters (bytes of the "
        "decoded body; a real store's is about 0.7 MB); a longer one is dropped as soon as its "
        "size shows, skipped for the tick and counted.",
    )
    scrape_parse_timeout_s: Seconds = Field(
        0.5,
        description="Direct metrics: longest time one page's parse may take (a real store's takes "
        "about 1 ms); past it the page is skipped for the tick and counted.",
    )
    watch_stores: bool = Field(
        True,
        description="Hold a connection open to each store's status port between ticks: one that "
        "closes or resets, or a refused connect, wakes the monitor for that store at once.",
    )
    watch_max_stores: int = Field(
        1024, ge=0, le=100_000, description="Stores watched that way at most (lowest ids first)."
    )
    pd_leader_poll_s: float = Field(
        0.5,
        ge=0,
        le=60,
        description="How often GET /pd/api/v1/leader is read between ticks; a new leader wakes the "
        "monitor. 0: only the ticks read it.",
    )
    heartbeat_overdue_s: Seconds = Field(
        12.0,
        description="Direct metrics: a store whose PD heartbeat is this far behind the newest is read first.",
    )
    min_rate_window_s: Seconds | None = Field(
        None,
        description="Shortest gap two counter reads may have for a rate (default: 0.75 x the interval).",
    )
    prometheus_rate_window: str = Field(
        "1m", pattern=r"^\d+(ms|s|m|h)$", description="Range of Prometheus rate() queries."
    )
    prometheus_timeout_s: Seconds = Field(
        4.0, description="Timeout of one Prometheus query (capped at 0.8 x the tick budget)."
    )
    log_source: Literal["auto", "http", "docker", "file", "none"] = Field(
        "auto",
        description="Where store logs come from: http (log_url), docker (the compose lab), file "
        "(log_dir), none; auto: file when log_dir is set, else none.",
    )
    log_url: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="For log_source http: URL templates of a store's log route ({store_id}, {host}, "
        "{address}), comma-separated; tried in order, the one that answered is preferred.",
    )
    log_dir: Path | None = Field(
        None,
        description="Directory of per-store TiKV log files (tikv-<id>.log or <host>.log), for log_source file.",
    )
    compose_file: Path | None = Field(
        None,
        description="Compose file of a lab of your own; unset: the lab this package ships, "
        "copied into lab_dir by `deploy local up`.",
    )
    lab_dir: Path | None = Field(
        None,
        description="State directory of the shipped lab (compose files, downloaded dashboards); "
        "unset: $XDG_STATE_HOME/operator-tui/lab.",
    )
    compose_project: str = Field(
        "operator-tikv", description="Compose project name of the local lab."
    )
    docker_container: str = Field(
        "{host}", description="Container of a store for log_source docker; {host} is its host name."
    )
    tick_timeout_s: Seconds | None = Field(
        None, description="Budget of one tick (default: 2 x the interval, at least 5 s)."
    )
    pd_timeout_s: Seconds = Field(2.0, description="Timeout of one PD request.")
    pd_retries: int = Field(
        2, ge=0, le=10, description="Rounds over the PD members after transport failures."
    )
    pd_call_budget_s: Seconds = Field(
        8.0, description="Budget of one PD call with its retries (capped at 0.8 x the tick budget)."
    )
    pd_max_answer_bytes: int = Field(
        8 << 20,
        ge=64 << 10,
        le=1 << 30,
        description="Largest PD answer read, in bytes (a larger one is refused; region counts "
        "are still read from its first bytes).",
    )
    hot_regions_every_s: Period = Field(
        10.0, description="How often PD's hot write regions are read; 0: every tick."
    )
    region_checks_every_s: Period = Field(
        10.0,
        description="How often PD's region checks (miss/down/pending/offline peers) are read; 0: every tick.",
    )
    schedule_config_every_s: Period = Field(
        30.0, description="How often PD's schedule config is read; 0: every tick."
    )
    include_tombstone: bool = Field(False, description="Also list tombstone stores.")
    invariants: InvariantSettings = Field(
        default_factory=InvariantSettings,
        description="Thresholds and grace periods of the invariants; grace_scale 0 fires at once.",
    )

    @field_validator("pd", "log_url", mode="before")
    @classmethod
    def _split_endpoints(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in (p.strip() for p in value.split(",")) if part]
        return value

    @field_validator("pd")
    @classmethod
    def _normalise_endpoints(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one PD endpoint is needed")
        return [_url(url) for url in value]

    @field_validator("prometheus_url")
    @classmethod
    def _normalise_prometheus(cls, value: str | None) -> str | None:
        return _url(value) if value else None

    @field_validator("scrape_budget", mode="before")
    @classmethod
    def _budget_text(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ("auto", "all"):
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"auto, all or a number of stores, not {value!r}") from None
        return value

    @field_validator("scrape_budget")
    @classmethod
    def _check_budget(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            if value < 0:
                raise ValueError("a number of stores (1 or more), auto, or all (0 also means all)")
            return "all" if value == 0 else value
        return value

    @field_validator("invariants")
    @classmethod
    def _no_negative_threshold(cls, value: InvariantSettings) -> InvariantSettings:
        for f in dataclasses.fields(value):
            if getattr(value, f.name) < 0:
                raise ValueError(f"{f.name} must not be negative")
        return value

    @model_validator(mode="after")
    def _file_logs_need_a_dir(self) -> TikvSettings:
        if self.log_source == "file" and self.log_dir is None:
            raise ValueError("log_source file needs log_dir (OPERATOR_TIKV__LOG_DIR)")
        if self.log_source == "http" and not self.log_url:
            raise ValueError("log_source http needs log_url (OPERATOR_TIKV__LOG_URL)")
        return self

    @property
    def budget(self) -> int | Literal["all"] | None:
        """``scrape_budget`` as direct metrics take it: None for auto."""
        return None if self.scrape_budget == "auto" else self.scrape_budget

    @property
    def logs(self) -> Literal["http", "docker", "file", "none"]:
        """``log_source`` with ``auto`` resolved: files when a directory is given, else none."""
        if self.log_source == "auto":
            return "file" if self.log_dir is not None else "none"
        return self.log_source


def _url(value: str) -> str:
    if "://" not in value:
        value = "http://" + value
    return value.rstrip("/")

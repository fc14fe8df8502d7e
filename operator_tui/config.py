"""Settings: environment (``OPERATOR_`` prefix, ``__`` for nesting), ``.env``, and an optional TOML file.

Precedence, highest first: command-line overrides, environment, ``.env``, the
TOML file given with ``--config``, defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "operator-tui" / "tickets.db"


class Settings(BaseSettings):
    """The operator's effective configuration."""

    model_config = SettingsConfigDict(
        env_prefix="OPERATOR_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    subject: str = Field(
        "tikv", description="Subject plugin to operate (entry point in operator_tui.subjects)."
    )
    pd: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:2379"],
        description="PD endpoints, comma-separated; tried in order, the one that answered is preferred.",
    )
    prometheus_url: str | None = Field(
        None,
        description="Prometheus base URL; when unset, metrics are scraped straight from each store.",
    )
    metrics_source: Literal["prometheus", "direct", "auto"] = Field(
        "auto",
        description="Where store metrics come from: prometheus, direct (/metrics of each store), or auto.",
    )
    log_source: Literal["auto", "http", "docker", "file", "none"] = Field(
        "auto",
        description="Where store logs come from: http (log_url), docker (the compose lab), file (log_dir), none; "
        "auto keeps the demo's and reads files when log_dir is set.",
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
    interval_s: float = Field(2.0, ge=0.1, le=3600, description="Monitor interval in seconds.")
    db_path: Path = Field(
        default_factory=default_db_path, description="SQLite file holding tickets and diagnoses."
    )
    anthropic_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "ANTHROPIC_API_KEY", "OPERATOR_ANTHROPIC_API_KEY", "anthropic_api_key"
        ),
        description="Claude API key; never printed. Without it the offline diagnoser serves.",
    )
    anthropic_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "ANTHROPIC_BASE_URL", "OPERATOR_ANTHROPIC_BASE_URL", "anthropic_base_url"
        ),
        description="Messages API base URL (default: Anthropic's).",
    )
    claude_model: str = Field("claude-sonnet-4-6", description="Claude model used for diagnosis.")
    claude_max_tokens: int = Field(4096, ge=256, le=64_000, description="Max tokens per diagnosis.")
    diagnosis_backend: Literal["auto", "claude", "offline"] = Field(
        "auto", description="auto: Claude when a key is set, else offline."
    )
    agent_concurrency: int = Field(2, ge=1, le=16, description="Diagnoses run at once.")
    agent_max_retries: int = Field(
        3, ge=0, le=10, description="Retries on 429, 529, 5xx, timeouts, cut streams."
    )
    actions_mode: Literal["observe", "approve", "auto"] = Field(
        "observe",
        description="observe: never act; approve: act after a person approves; auto: act.",
    )
    compose_file: Path = Field(
        Path("compose/tikv/docker-compose.yml"), description="Compose file of the local lab."
    )
    compose_project: str = Field(
        "operator-tikv", description="Compose project name of the local lab."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level on stderr."
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
        out = []
        for url in value:
            if "://" not in url:
                url = "http://" + url
            out.append(url.rstrip("/"))
        return out

    @field_validator("scrape_budget")
    @classmethod
    def _check_budget(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            if value < 0:
                raise ValueError("a number of stores (1 or more), auto, or all (0 also means all)")
            return "all" if value == 0 else value
        return value

    @field_validator("prometheus_url")
    @classmethod
    def _normalise_prometheus(cls, value: str | None) -> str | None:
        if not value:
            return None
        if "://" not in value:
            value = "http://" + value
        return value.rstrip("/")

    @model_validator(mode="after")
    def _file_logs_need_a_dir(self) -> Settings:
        if self.log_source == "file" and self.log_dir is None:
            raise ValueError("log_source file needs log_dir (OPERATOR_LOG_DIR)")
        if self.log_source == "http" and not self.log_url:
            raise ValueError("log_source http needs log_url (OPERATOR_LOG_URL)")
        return self

    @property
    def backend(self) -> Literal["claude", "offline"]:
        if self.diagnosis_backend == "auto":
            return "claude" if self.anthropic_api_key else "offline"
        return self.diagnosis_backend

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        toml_path = _TOML_PATH.get("path")
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    def masked(self) -> dict[str, Any]:
        """Effective settings as plain values, secrets shown as set/unset only."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "**********" if value.get_secret_value() else None
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out


_TOML_PATH: dict[str, Path | None] = {"path": None}


class ConfigError(Exception):
    """A bad setting, worded for one line: ``setting: problem``."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings, turning any validation failure into a one-line ``ConfigError``."""
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file}")
    _TOML_PATH["path"] = config_file
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        raise ConfigError(f"invalid setting {loc}: {err.get('msg', 'invalid value')}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read settings: {exc}") from None
    finally:
        _TOML_PATH["path"] = None


def describe_fields() -> list[tuple[str, str, str, str]]:
    """(name, env var, default, description) for the README and ``operator-tui config``."""
    rows = []
    for name, f in Settings.model_fields.items():
        env = f"OPERATOR_{name.upper()}"
        if name in ("anthropic_api_key", "anthropic_base_url"):
            env = name.upper()
        default = f.default if f.default_factory is None else "(computed)"
        rows.append((name, env, str(default), f.description or ""))
    return rows

"""Settings in sections: environment (``OPERATOR_`` prefix, ``__`` for nesting), ``.env``, a TOML file.

Precedence, highest first: command-line overrides, environment, ``.env``, the TOML
file given with ``--config``, defaults. The subject's section (``tikv``) is the
plugin's own model, nested by ``settings_class``; ``load_settings`` picks the plugin
named by ``subject`` and builds the class with it.

The names from before sections (``OPERATOR_PD``, ``OPERATOR_INTERVAL_S``,
``ANTHROPIC_API_KEY``, ``pd = ...`` at the top of the TOML file, ``Settings(db_path=...)``)
are read as aliases of their sectioned names; within one source the sectioned name wins.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from operator_tui.core.diagnosis import backends
from operator_tui.core.plugin import SubjectPlugin
from operator_tui.core.registry import load_plugin
from operator_tui.core.subject import SubjectError
from operator_tui.core.urls import mask_url


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "operator-tui" / "tickets.db"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class DiagnosisSettings(_Section):
    backend: str = Field(backends.AUTO, description=f"Diagnosis backend: {backends.describe()}.")
    api_key: SecretStr | None = Field(
        None, description="Claude API key; never printed. Without it the offline diagnoser serves."
    )
    base_url: str | None = Field(None, description="Messages API base URL (default: Anthropic's).")
    claude_model: str = Field("claude-sonnet-4-6", description="Claude model used for diagnosis.")
    max_tokens: int = Field(4096, ge=256, le=64_000, description="Max tokens per diagnosis.")
    concurrency: int = Field(2, ge=1, le=16, description="Diagnoses run at once.")
    max_retries: int = Field(
        3, ge=0, le=10, description="Retries on 429, 529, 5xx, timeouts, cut streams."
    )
    max_tool_calls: int = Field(
        12, ge=0, le=100, description="Read-only tool calls Claude may make per diagnosis."
    )
    max_seconds: float = Field(
        180.0, ge=5, le=3600, description="Wall time of one diagnosis before it must conclude."
    )
    max_loop_tokens: int = Field(
        200_000,
        ge=1000,
        le=10_000_000,
        description="Tokens (in + out, all turns) of one diagnosis before it must conclude.",
    )
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {
            "claude-opus-4-5": (5.0, 25.0),
            "claude-opus-4": (15.0, 75.0),
            "claude-sonnet-4": (3.0, 15.0),
            "claude-haiku-4-5": (1.0, 5.0),
            "claude-3-5-haiku": (0.8, 4.0),
        },
        description="USD per million input and output tokens by model name (the longest "
        "matching prefix counts); a model not listed has no cost estimate.",
    )

    def price_of(self, model: str) -> tuple[float, float] | None:
        match = max((k for k in self.prices if model.startswith(k)), key=len, default=None)
        return None if match is None else self.prices[match]

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        return backends.check(value)

    @property
    def resolved_backend(self) -> str:
        """``backend`` with ``auto`` resolved by whether a key is set."""
        has_key = bool(self.api_key and self.api_key.get_secret_value())
        return backends.resolve(self.backend, has_key=has_key)


class ActionsSettings(_Section):
    mode: Literal["observe", "approve", "auto"] = Field(
        "observe",
        description="observe: never act; approve: act after a person approves; auto: act.",
    )
    allow_chaos: bool = Field(
        False,
        description="Let the kill and start keys act on the subject's lab while the operator "
        "watches a cluster configured elsewhere (the demo and the lab itself need no leave).",
    )


class MonitorSettings(_Section):
    interval_s: float = Field(2.0, ge=0.1, le=3600, description="Monitor interval in seconds.")
    wake_per_second: int = Field(
        5,
        ge=0,
        le=100,
        description="Early ticks per second at most when the subject sees a store or leader "
        "change between ticks (one per store per interval); 0 ticks on the interval only.",
    )


class StorageSettings(_Section):
    db_path: Path = Field(
        default_factory=default_db_path,
        description="SQLite file holding tickets and diagnoses (the demo uses a throwaway one unless set).",
    )


@dataclass(frozen=True, slots=True)
class FlatAlias:
    """A setting's name from before sections: ``name`` (TOML, keyword) and its environment names."""

    name: str
    section: str
    field: str
    env: tuple[str, ...]


def _app_aliases() -> tuple[FlatAlias, ...]:
    def alias(name: str, section: str, field: str, *env: str) -> FlatAlias:
        return FlatAlias(name, section, field, env or (f"OPERATOR_{name.upper()}",))

    return (
        alias("interval_s", "monitor", "interval_s"),
        alias("db_path", "storage", "db_path"),
        alias("actions_mode", "actions", "mode"),
        alias("allow_chaos", "actions", "allow_chaos"),
        alias("diagnosis_backend", "diagnosis", "backend"),
        alias(
            "anthropic_api_key",
            "diagnosis",
            "api_key",
            "ANTHROPIC_API_KEY",
            "OPERATOR_ANTHROPIC_API_KEY",
        ),
        alias(
            "anthropic_base_url",
            "diagnosis",
            "base_url",
            "ANTHROPIC_BASE_URL",
            "OPERATOR_ANTHROPIC_BASE_URL",
        ),
        alias("claude_model", "diagnosis", "claude_model"),
        alias("claude_max_tokens", "diagnosis", "max_tokens"),
        alias("agent_concurrency", "diagnosis", "concurrency"),
        alias("agent_max_retries", "diagnosis", "max_retries"),
    )


class Settings(BaseSettings):
    """The operator's effective configuration; ``settings_class`` adds the subject's section."""

    model_config = SettingsConfigDict(
        env_prefix="OPERATOR_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    toml_file: ClassVar[Path | None] = None
    flat_aliases: ClassVar[tuple[FlatAlias, ...]] = _app_aliases()

    subject: str = Field(
        "tikv", description="Subject plugin to operate (entry point in operator_tui.subjects)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level on stderr."
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="Headless logs: text lines on stderr, or json lines on stdout with the events.",
    )
    diagnosis: DiagnosisSettings = Field(default_factory=DiagnosisSettings)
    actions: ActionsSettings = Field(default_factory=ActionsSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)

    @property
    def subject_settings(self) -> Any:
        """The subject's own section (``self.tikv`` for TiKV); None when built without its plugin."""
        return getattr(self, self.subject, None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        aliases = cls.flat_aliases

        sources: list[PydanticBaseSettingsSource] = [
            _Nested(settings_cls, init_settings, aliases),
            env_settings,
            _FlatEnv(settings_cls, lambda: os.environ, aliases),
            dotenv_settings,
            _FlatEnv(settings_cls, lambda: getattr(dotenv_settings, "env_vars", {}), aliases),
        ]
        if cls.toml_file is not None:
            toml = TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_file)
            sources.append(_Nested(settings_cls, toml, aliases))
        return tuple(sources)

    def masked(self) -> dict[str, Any]:
        """Effective settings as plain nested values, secrets shown as set/unset only and
        credentials in URLs masked (``ANTHROPIC_BASE_URL=https://user:key@host`` too)."""
        return _plain(self.model_dump())


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, SecretStr):
        return "**********" if value.get_secret_value() else None
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _nest(values: Mapping[str, Any], aliases: tuple[FlatAlias, ...]) -> dict[str, Any]:
    """Move flat names into their sections; a sectioned value of the same setting wins."""
    out = dict(values)
    for a in aliases:
        if a.name not in out or a.name == a.section:
            continue
        value = out.pop(a.name)
        section = out.get(a.section)
        if section is None:
            out[a.section] = {a.field: value}
        elif isinstance(section, Mapping) and a.field not in section:
            out[a.section] = {**section, a.field: value}
    return out


class _Nested(PydanticBaseSettingsSource):
    """Another source (keywords, TOML) with its flat names moved into sections."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        inner: PydanticBaseSettingsSource,
        aliases: tuple[FlatAlias, ...],
    ) -> None:
        super().__init__(settings_cls)
        self.inner = inner
        self.aliases = aliases

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _nest(self.inner(), self.aliases)


class _FlatEnv(PydanticBaseSettingsSource):
    """Environment names from before sections (``OPERATOR_PD``, ``ANTHROPIC_API_KEY``)."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        read: Callable[[], Mapping[str, str | None]],
        aliases: tuple[FlatAlias, ...],
    ) -> None:
        super().__init__(settings_cls)
        self.read = read
        self.aliases = aliases

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        env = {k.upper(): v for k, v in self.read().items() if v is not None}
        flat: dict[str, Any] = {}
        for a in self.aliases:
            value = next((env[name] for name in a.env if name in env), None)
            if value is not None:
                flat[a.name] = value
        return _nest(flat, self.aliases)


def settings_class(
    plugin: SubjectPlugin | None = None, toml_file: Path | None = None
) -> type[Settings]:
    """``Settings`` with ``plugin``'s section nested under its name, reading ``toml_file`` if given."""
    fields: dict[str, Any] = {}
    aliases = Settings.flat_aliases
    if plugin is not None:
        model = plugin.settings_model
        fields["subject"] = (
            Literal[plugin.name],  # type: ignore[valid-type]
            Field(plugin.name, description=Settings.model_fields["subject"].description),
        )
        fields[plugin.name] = (
            model,
            Field(default_factory=model, description=f"Settings of the {plugin.name} subject."),
        )
        aliases += tuple(
            FlatAlias(name, plugin.name, name, (f"OPERATOR_{name.upper()}",))
            for name in getattr(model, "flat_aliases", ())
        )
    cls = create_model("Settings", __base__=Settings, __module__=__name__, **fields)
    cls.toml_file = toml_file
    cls.flat_aliases = aliases
    return cls


class ConfigError(Exception):
    """A bad setting, worded for one line: ``setting: problem``."""


def load_settings(
    config_file: Path | None = None, *, plugin: SubjectPlugin | None = None, **overrides: Any
) -> Settings:
    """Settings with the subject's section; any failure is a one-line ``ConfigError``.

    ``overrides`` (command-line options) take flat or sectioned names; None means unset.
    Without ``plugin``, the one named by ``subject`` is loaded.
    """
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file}")
    given = {k: v for k, v in overrides.items() if v is not None}
    if plugin is None:
        name = _build(settings_class(None, config_file), given).subject
        try:
            plugin = load_plugin(name)
        except SubjectError as exc:
            raise ConfigError(str(exc)) from None
    return _build(settings_class(plugin, config_file), given)


def _build(cls: type[Settings], overrides: dict[str, Any]) -> Settings:
    try:
        return cls(**overrides)
    except ValidationError as exc:
        raise ConfigError(one_line(exc)) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read settings: {exc}") from None


def one_line(exc: ValidationError) -> str:
    """``invalid setting tikv.scrape_budget: ...`` for the first error of a validation."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ())) or "settings"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"invalid setting {loc}: {msg}".splitlines()[0]


def section_with(section: BaseModel, overrides: Mapping[str, Any]) -> BaseModel:
    """``section`` with ``overrides`` applied and validated again (unknown names refused)."""
    if not overrides:
        return section
    try:
        return type(section).model_validate({**section.model_dump(), **overrides})
    except ValidationError as exc:
        raise ConfigError(one_line(exc)) from None


def describe_fields(settings: Settings) -> Iterator[tuple[str, str, str, str]]:
    """(dotted name, environment name, default, description) of every leaf setting."""
    yield from _describe(type(settings), ())


def _describe(model: type[Any], path: tuple[str, ...]) -> Iterator[tuple[str, str, str, str]]:
    if dataclasses.is_dataclass(model):
        rows = [(f.name, f.type, f.default, "") for f in dataclasses.fields(model)]
    else:
        rows = [
            (
                name,
                f.annotation,
                "(computed)" if f.default_factory is not None else f.default,
                f.description or "",
            )
            for name, f in model.model_fields.items()
        ]
    for name, ann, default, description in rows:
        if isinstance(ann, type) and (issubclass(ann, BaseModel) or dataclasses.is_dataclass(ann)):
            yield from _describe(ann, (*path, name))
            continue
        dotted = ".".join((*path, name))
        env = "OPERATOR_" + "__".join((*path, name)).upper()
        yield dotted, env, str(default), description

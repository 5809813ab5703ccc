"""Where settings come from, resolved once (first wins): flags > ``FLOW_*`` > config.toml > defaults.

Nested tables use ``__`` in environment names (``FLOW_INDEX__BUDGET=1500``); a few settings
also have a short name (:data:`ENV_ALIASES`). A bad value is reported against where it came
from: the flag, the variable, or the file's line. This is the only module that reads
``os.environ``.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flowloop.config.schema import USER_ONLY, Settings
from flowloop.errors import ConfigError


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError("not valid UTF-8", path=path, hint="save the file as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        if line is None:  # Python 3.11's tomllib puts the position only in the message
            import re

            found = re.search(r"at line (\d+)", str(exc))
            line = int(found.group(1)) if found else None
        raise ConfigError(f"invalid TOML: {exc}", path=path, line=line, hint="fix the syntax") from exc


# Short environment names of settings that are usually exported by hand (a secret); resolved
# here like any FLOW_* variable, after the long names, so the short one wins.
ENV_ALIASES: dict[str, tuple[str, str]] = {
    "FLOW_INGEST_TOKEN": ("signals", "ingest_token"),
}


def _env_values(environ: dict[str, str]) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """``FLOW_<SECTION>__<KEY>`` (and ``FLOW_<KEY>`` for top-level keys) as a nested dict, and
    the variable name each setting came from (so errors name the variable, not config.toml).

    Variables that name no setting (e.g. ``FLOW_TEST_DATABASE_URL``) are ignored, like any other
    environment. Values starting with ``[`` or ``{`` are JSON (lists, tables). The short names of
    :data:`ENV_ALIASES` come last.
    """
    values: dict[str, Any] = {}
    names: dict[tuple[str, ...], str] = {}
    for name, raw in environ.items():
        if not name.upper().startswith("FLOW_"):
            continue
        path = name[5:].lower().split("__")
        if path[0] not in Settings.model_fields:
            continue
        value: Any = raw
        if raw.lstrip().startswith(("[", "{")):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{name} is not valid JSON: {exc.msg}", field=".".join(path)) from exc
        node = values
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name} conflicts with another FLOW_ variable", field=".".join(path))
        node[path[-1]] = value
        names[tuple(path)] = name
    for name, (section, key) in ENV_ALIASES.items():
        if name in environ:
            node = values.setdefault(section, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name} conflicts with FLOW_{section.upper()}", field=f"{section}.{key}")
            node[key] = environ[name]
            names[(section, key)] = name
    return values, names


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _has(values: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = values
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _without_user_only(file_values: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    cleaned, refused = dict(file_values), []
    for section, key in USER_ONLY:
        table = cleaned.get(section)
        if isinstance(table, dict) and key in table:
            cleaned[section] = {k: v for k, v in table.items() if k != key}
            refused.append(f"{section}.{key}")
    return cleaned, tuple(refused)


def _file_line(path: Path, loc: tuple[str, ...]) -> int | None:
    """Line of ``key =`` under ``[section]`` in the TOML file (best effort, for the message)."""
    import re

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    section, key = (loc[0], loc[-1]) if len(loc) > 1 else ("", loc[0])
    current = ""
    for number, line in enumerate(lines, start=1):
        header = re.match(r"\s*\[+\s*([\w.-]+)\s*\]+", line)
        if header:
            current = header.group(1)
        elif current == section and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None


def _config_error(
    exc: ValidationError, config_path: Path | None, env: dict[str, Any], env_names: dict[tuple[str, ...], str],
    overrides: dict[str, Any],
) -> ConfigError:
    """One validation error, reported against where the bad value came from."""
    err = exc.errors()[0]
    loc = tuple(str(p) for p in err["loc"])
    field = ".".join(loc)
    message = err["msg"].removeprefix("Value error, ")
    if _has(overrides, loc):
        return ConfigError(f"{message} (from the command line)", field=field)
    for depth in range(len(loc), 0, -1):  # a JSON-valued variable may hold the whole table
        if loc[:depth] in env_names and _has(env, loc):
            return ConfigError(f"{env_names[loc[:depth]]}: {message}", field=field,
                               hint="fix or unset that environment variable")
    line = _file_line(config_path, loc) if config_path is not None else None
    return ConfigError(
        message, path=config_path, line=line, field=field,
        hint=f"fix the key in the TOML file (or override it with FLOW_{field.upper().replace('.', '__')})",
    )


def load_settings(config_path: Path | None, **overrides: Any) -> Settings:
    """Read ``config_path`` (may be missing), apply ``FLOW_*`` variables, then ``overrides``.

    User-only settings (``USER_ONLY``) in the file are dropped and listed in
    ``Settings.refused_from_file`` for the code that would have used them to report.
    Hand-rolled rather than pydantic-settings: that import alone cost ~200 ms of every
    command's start-up, and hooks must answer within a second.
    """
    file_values = _read_toml(config_path) if config_path is not None else {}
    file_values, refused = _without_user_only(file_values)
    env, env_names = _env_values(dict(os.environ))
    merged = _merge(_merge(file_values, env), overrides)
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        raise _config_error(exc, config_path, env, env_names, overrides) from exc
    settings._refused = refused
    return settings

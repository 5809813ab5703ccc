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
from flowloop.passes import passes


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


def deprecated_keys() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Old key -> new key, for every key a pass moved into its ``[train.<name>]`` table.

    The old keys keep working for one release; each use is reported in ``Settings.deprecations``.
    """
    return {tuple(old.split(".")): ("train", p.name, new) for p in passes() for old, new in p.deprecated.items()}


def _pop(values: dict[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    node: Any = values
    for part in path[:-1]:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    if not isinstance(node, dict) or path[-1] not in node:
        return False, None
    value = node.pop(path[-1])
    return True, value


def _put(values: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = values
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return  # a malformed table: validation reports it against the table itself
    node.setdefault(path[-1], value)  # the new key, when also set, wins


def _migrate(values: dict[str, Any], names: dict[tuple[str, ...], str] | None = None) -> list[str]:
    """Move old keys of ``values`` to their new place; one message per key moved.

    With ``names`` (the variable each setting came
    from) the variable's name follows the value, so an error still names it.
    """
    messages = []
    for old, new in deprecated_keys().items():
        found, value = _pop(values, old)
        if not found:
            continue
        _put(values, new, value)
        if names is not None and old in names:
            names[new] = names.pop(old)
            messages.append(f"{names[new]} is deprecated: use FLOW_{'__'.join(new).upper()} "
                            "(the old name still works in this release)")
        else:
            messages.append(f"config.toml: [{'.'.join(old[:-1])}] {old[-1]} is deprecated: use "
                            f"[{'.'.join(new[:-1])}] {new[-1]} (the old key still works in this release)")
    return messages


def _file_line(path: Path, loc: tuple[str, ...]) -> int | None:
    """Line of ``key =`` under ``[section]`` in the TOML file (best effort, for the message)."""
    import re

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    section, key = (".".join(loc[:-1]), loc[-1]) if len(loc) > 1 else ("", loc[0])
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
    moved = {new: old for old, new in deprecated_keys().items()}
    file_loc = next((moved[loc[:d]] + loc[d:] for d in range(len(loc), 0, -1) if loc[:d] in moved), loc)
    line = _file_line(config_path, file_loc) if config_path is not None else None
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
    deprecations = _migrate(file_values) + _migrate(env, env_names)
    merged = _merge(_merge(file_values, env), overrides)
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        raise _config_error(exc, config_path, env, env_names, overrides) from exc
    settings._refused = refused
    settings._deprecations = tuple(deprecations)
    return settings

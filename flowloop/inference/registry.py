"""The backend registry: the one list of inference backend names, and the one way to get a model.

``BACKENDS`` maps a name to a factory ``(repo, which) -> Model`` (``which``: ``base``,
``current``, ``vN``). Built-ins are registered exactly as another package would register its
own, through :func:`register_backend`, by ``"module:function"`` path: the path is imported on
first use (the way ``llm`` loads its default plugins), so ``flow ask --backend openai`` never
imports the in-process backend. The configuration holds a plain name (``[inference] backend``,
``[eval] backend``); a name that is not registered is refused here, at lookup, with the list of
registered names, so a newly registered backend is never refused by a second list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Union

from flowloop.errors import InferenceError
from flowloop.inference.model import Model

if TYPE_CHECKING:
    from flowloop.repo import FlowRepo

BackendFactory = Callable[["FlowRepo", str], Model]
Entry = Union[BackendFactory, str]

BACKENDS: dict[str, Entry] = {}


def register_backend(name: str, factory: Entry, *, replace: bool = False) -> None:
    """Register ``factory`` (a callable, or ``"package.module:function"``) under ``name``.

    Registering a taken name is refused unless ``replace`` (a test swapping in its own fake)."""
    if not name or not name.strip():
        raise ValueError("a backend name must be a non-empty string")
    if name in BACKENDS and not replace:
        raise ValueError(f"inference backend {name!r} is already registered")
    BACKENDS[name] = factory


def unregister_backend(name: str) -> None:
    """Remove ``name`` (tests that registered a backend of their own clean up with this)."""
    BACKENDS.pop(name, None)


def backend_names() -> list[str]:
    """The registered names, in registration order."""
    return list(BACKENDS)


def backend_factory(name: str, field: str = "inference.backend") -> BackendFactory:
    """The factory registered as ``name``; an unknown name names the setting and the choices."""
    entry = BACKENDS.get(name)
    if entry is None:
        raise InferenceError(
            f"unknown inference backend {name!r}", field=field,
            hint=f"use one of the registered backends: {', '.join(BACKENDS)}",
        )
    if isinstance(entry, str):
        module_name, _, attr = entry.partition(":")
        try:
            entry = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise InferenceError(f"inference backend {name!r} cannot be loaded from {module_name}:{attr}: {exc}",
                                 field=field, hint="install the package that provides it, or fix its registration") from exc
        BACKENDS[name] = entry
    return entry


def get_model(repo: "FlowRepo", which: str = "current", backend: str | None = None, *, field: str = "inference.backend") -> Model:
    """The model ``which`` through ``backend`` (default: ``[inference] backend``).

    ``field`` names the setting the backend name came from, for the error of an unknown one."""
    chosen = backend or repo.settings.inference.backend
    return backend_factory(chosen, field)(repo, which)


register_backend("transformers", "flowloop.inference.transformers_backend:create")
register_backend("openai", "flowloop.inference.openai_backend:create")
register_backend("fake", "flowloop.inference.fake:create")

__all__ = ["BACKENDS", "BackendFactory", "backend_factory", "backend_names", "get_model", "register_backend",
           "unregister_backend"]

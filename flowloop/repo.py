"""Where a flowloop repository keeps its files, and ``flow init``.

A repository is any folder (normally a git work tree) with a ``.flow/`` folder:
``config.toml`` and ``pilrs/`` are committed; ``state/`` (index, signals, datasets, models,
reports) is ignored and can always be rebuilt or re-imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flowloop.atomic import atomic_write_text
from flowloop.config import DEFAULT_CONFIG_TOML, Settings, load_settings
from flowloop.errors import NotInitializedError

PILR_TYPES = ("ephemeral", "evergreen", "cumulative")
FLOW_DIR = ".flow"
GITIGNORE_TEXT = "# flowloop: derived state (index, signals, datasets, models) stays local\nstate/\n"


@dataclass(frozen=True)
class FlowRepo:
    """Paths of one repository. Cheap to build; reads nothing until asked."""

    root: Path
    _settings: list[Settings] = field(default_factory=list, compare=False, repr=False)

    @property
    def flow_dir(self) -> Path:
        return self.root / FLOW_DIR

    @property
    def config_path(self) -> Path:
        return self.flow_dir / "config.toml"

    @property
    def pilrs_dir(self) -> Path:
        return self.flow_dir / "pilrs"

    @property
    def state_dir(self) -> Path:
        return self.flow_dir / "state"

    def pilr_dir(self, pilr_type: str) -> Path:
        return self.pilrs_dir / pilr_type

    def state_path(self, *parts: str) -> Path:
        """A path under ``.flow/state/``, creating its parent folder."""
        path = self.state_dir.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def settings(self) -> Settings:
        """Settings from ``.flow/config.toml`` and ``FLOW_*``, loaded once per repo object."""
        if not self._settings:
            self._settings.append(load_settings(self.config_path))
        return self._settings[0]

    def is_initialized(self) -> bool:
        return self.config_path.is_file()

    def require_initialized(self) -> "FlowRepo":
        if not self.is_initialized():
            raise NotInitializedError(
                "no .flow/config.toml here",
                path=self.root,
                hint="run `flow init` in the repository, or pass -C PATH",
            )
        return self


def find_repo(start: Path) -> FlowRepo:
    """The nearest folder at or above ``start`` with ``.flow/config.toml``; else ``start`` itself."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / FLOW_DIR / "config.toml").is_file():
            return FlowRepo(candidate)
    return FlowRepo(start)


@dataclass(frozen=True)
class InitResult:
    repo: FlowRepo
    created: list[Path]

    @property
    def changed(self) -> bool:
        return bool(self.created)


def init_repo(root: Path, name: str | None = None) -> InitResult:
    """Create the ``.flow/`` layout; existing files are never touched (idempotent)."""
    repo = FlowRepo(root.resolve())
    created: list[Path] = []
    for pilr_type in PILR_TYPES:
        folder = repo.pilr_dir(pilr_type)
        if not folder.is_dir():
            folder.mkdir(parents=True)
            created.append(folder)
    if not repo.config_path.exists():
        project = name or repo.root.name
        atomic_write_text(repo.config_path, DEFAULT_CONFIG_TOML.format(name=project))
        created.append(repo.config_path)
    gitignore = repo.flow_dir / ".gitignore"
    if not gitignore.exists():
        atomic_write_text(gitignore, GITIGNORE_TEXT)
        created.append(gitignore)
    return InitResult(repo=repo, created=created)

"""The preamble every generative pass shares, written once.

A pass's runner (``sft.py``, ``dpo.py``) opens a :func:`pass_run` and gets everything that is
the same for all of them, in this order: the hardware resolved (a CUDA-only option on a CPU
fails here, before anything loads), the dataset read and checked (threshold, rows, weights),
the starting version (the pass's ``starts_from``, or the base model), the examples fitted into
``max_length`` with the starting tokenizer (a length nothing fits into is refused here, before
anything is written), the run folder opened (resuming an unfinished run of the same job), the
model loaded and the memory estimated. The runner then only builds its TRL config and
trainer and calls :meth:`PassRun.finish`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowloop.config import TrainSettings
from flowloop.errors import TrainingError
from flowloop.models.base_model import resolve_model_name
from flowloop.models.fit import fit_for_training
from flowloop.models.registry import ModelVersion, Registry
from flowloop.passes import PassSettings, TrainingPass, get_pass
from flowloop.repo import FlowRepo
from flowloop.train.callbacks import ProgressReporter
from flowloop.train.common import check_memory, load_model, load_tokenizer, prepare_process, run_and_register, trainer_args
from flowloop.train.data import TrainingData, load_training_data
from flowloop.train.device import Hardware, MemoryEstimate, resolve_hardware
from flowloop.train.runs import Run, open_shared_run
from flowloop.train.types import LogSink, Notify, TrainResult
from flowloop.types import Progress


def starting_version(repo: FlowRepo, spec: TrainingPass, parent: str | None) -> ModelVersion | None:
    """The version a pass continues: ``parent`` (``vN`` / ``current``), else the newest of the
    pass it ``starts_from``; None for a pass that starts from the base model."""
    if spec.starts_from is None:
        if parent is not None:
            raise TrainingError(f"{spec.title} always starts from the base model", field="parent", hint="drop --from")
        return None
    registry = Registry(repo)
    if parent:
        return registry.get(parent)
    found = registry.latest(spec.starts_from)
    if found is None:
        before = get_pass(spec.starts_from)
        raise TrainingError(f"{spec.title} starts from an {before.title} checkpoint and none is registered",
                            path=registry.root, hint=f"run `flow train {before.name}` first")
    return found


def settings_record(train: TrainSettings, spec: TrainingPass) -> dict[str, Any]:
    """The settings a version of ``spec`` was trained with: the shared ``[train]`` keys and its
    own table (another pass's table does not change this run, so it is not part of its identity)."""
    others = {p for p in train.model_fields if isinstance(getattr(train, p), PassSettings) and p != spec.name}
    return train.model_dump(exclude=others)


@dataclass
class PassRun:
    """What :func:`pass_run` prepared, for the runner to build its trainer from."""

    repo: FlowRepo
    spec: TrainingPass
    train: TrainSettings
    hardware: Hardware
    data: TrainingData
    base_path: Path
    start: ModelVersion | None
    run: Run
    model: Any
    tokenizer: Any
    rows: list[dict[str, Any]]
    fitting: dict[str, Any]
    memory: MemoryEstimate
    reporter: ProgressReporter
    callbacks: list[Any]

    @property
    def table(self) -> PassSettings:
        """The pass's own ``[train.<name>]`` settings."""
        return self.train.pass_table(self.spec.name)

    def trainer_args(self) -> dict[str, Any]:
        """TrainingArguments both TRL configs take, with this pass's learning rate."""
        return trainer_args(self.train, self.hardware, self.run, self.table.learning_rate)

    def finish(self, trainer: Any) -> TrainResult:
        """Train (resuming from the run's checkpoint), save the adapter, register the version."""
        return run_and_register(self.repo, self.run, trainer, self.reporter, data=self.data, train=self.train,
                                hardware=self.hardware, memory=self.memory, base_path=self.base_path,
                                parent=self.start.version if self.start else None, extra=self.fitting,
                                settings=settings_record(self.train, self.spec))


@contextmanager
def pass_run(
    repo: FlowRepo,
    pass_name: str,
    *,
    settings: TrainSettings | None = None,
    dataset: str | int = "latest",
    parent: str | None = None,
    force: bool = False,
    resume: str = "auto",
    progress: Progress | None = None,
    on_log: LogSink | None = None,
    notify: Notify | None = None,
    callbacks: Sequence[Any] = (),
) -> Iterator[PassRun]:
    """Prepare one run of pass ``pass_name`` (see the module docstring)."""
    spec = get_pass(pass_name)
    train = settings or repo.settings.train
    hardware = resolve_hardware(train)
    data = load_training_data(repo, spec.name, dataset, force, train.seed, train.weighting)
    start = starting_version(repo, spec, parent)
    if start is not None and start.base_model != train.base_model:
        if notify:
            notify(f"{start.version} was trained on {start.base_model!r}; {spec.title} continues on that base")
        train = train.model_copy(update={"base_model": start.base_model})
    base_path = resolve_model_name(train.base_model, repo.settings, notify)
    identity = {"dataset_hash": data.dataset_hash, "base_model": train.base_model,
                "parent": [start.version, start.created_at] if start else None,
                "settings": settings_record(train, spec), "hardware": hardware.to_dict()}
    adapter_dir = start.adapter_dir if start else None
    tokenizer = load_tokenizer(base_path, adapter_dir)
    # before the run folder opens: a max_length that no example fits into is refused with nothing written
    rows, fitting = fit_for_training(data.rows, tokenizer, train.max_length, notify)
    prepare_process(hardware)
    with open_shared_run(repo, spec.name, identity, resume) as run:
        if notify and run.resume_from is not None:
            notify(f"resuming {run.id} from {run.resume_from.name}")
        model = load_model(base_path, hardware, adapter_dir=adapter_dir)
        # a pair's two sides go through the model together: that is what doubles the memory
        memory = check_memory(model, train, hardware, preference=len(spec.fields) > 2)
        if notify and memory.at_risk:
            notify(f"warning: out-of-memory risk: {memory.message()}")
        yield PassRun(repo, spec, train, hardware, data, base_path, start, run, model, tokenizer, rows, fitting,
                      memory, ProgressReporter(progress, on_log), list(callbacks))

"""The sweep file: a typed (pydantic) schema, validated before anything loads.

Errors name the file, the line, the field, the bad value and what is allowed::

    experiments/bad.yaml, line 12, ops[1].skip.ranges: 'everything' is not allowed; use 'all' or
    {min_width: W, max_width: W}
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from painters.errors import PaintersError
from painters.sweep.op_specs import OpSpec, shorthand, validate_op_spec
from painters.sweep.op_specs import RangeBounds as RangeBounds  # re-exported


class SweepError(PaintersError, ValueError):
    """A sweep file that cannot run; the message says where and how to fix it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSpec(_Strict):
    """The model: a hub id or a local folder (``from_pretrained``)."""

    id: str = Field(description="hub id (e.g. 'facebook/deit-small-patch16-224') or local folder")
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    device: str = "cpu"
    task_head: Literal[
        "auto",
        "causal-lm",
        "masked-lm",
        "image-classification",
        "object-detection",
        "semantic-segmentation",
        "sequence-classification",
        "base",
    ] = "auto"
    stage: Annotated[int, Field(ge=0)] | list[Annotated[int, Field(ge=0)]] | Literal["all"] | None = Field(
        default=None,
        description="stage whose blocks the ops index, for staged models (SegFormer, Swin, SwinV2, FocalNet, Hiera, "
        "PVTv2); a list runs the sweep stage by stage (one model entry per stage, named '<name>@stage<k>', its "
        "tasks '<task>@stage<k>', so every figure is drawn per stage); 'all' is every stage that holds blocks "
        "(read from the model's config.json: its 'depths')",
    )

    @field_validator("stage")
    @classmethod
    def _stages(cls, value: Any) -> Any:
        if isinstance(value, list) and (not value or len(set(value)) != len(value)):
            raise ValueError(f"stage lists distinct stages, e.g. [0, 1, 2, 3]; got {value}")
        return value

    tower: Literal["vision", "text"] | None = Field(
        default=None, description="the tower whose layers the ops index, for two-tower models (CLIP, SigLIP)"
    )
    name: str | None = Field(default=None, description="display name (default: the folder or hub id)")

    @property
    def display(self) -> str:
        return self.name or Path(self.id.rstrip("/")).name

    @field_validator("device")
    @classmethod
    def _device_name(cls, value: str) -> str:
        if not (value == "cpu" or value.startswith(("cuda", "mps"))):
            raise ValueError("device must be 'cpu', 'cuda', 'cuda:N' or 'mps'")
        return value

    def device_problem(self) -> str | None:
        """Why ``device`` cannot be used on this machine (checked when a sweep starts, not when a file is read,
        so that a GPU sweep file validates anywhere)."""
        import torch

        if self.device.startswith("cuda") and not torch.cuda.is_available():
            return (
                f"CUDA is not available here (torch {torch.__version__}); use device: cpu, or run on a machine "
                f"with a GPU and a CUDA build of torch (got {self.device!r})"
            )
        if self.device.startswith("mps") and not torch.backends.mps.is_available():
            return f"Apple MPS is not available here; use device: cpu (got {self.device!r})"
        return None

    @property
    def where(self) -> dict[str, Any]:
        """Which layer stack the ops index: ``stage=``/``tower=`` for ``painters.apply``."""
        return {"stage": self.stage, "tower": self.tower}


class TaskSpec(_Strict):
    """One task: a registered task type, its data, and how many examples."""

    type: str
    data: str | None = None
    split: str | None = None
    limit: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=16, ge=1)
    name: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        import painters.tasks  # noqa: F401  (registers the built-in tasks)
        from painters.tasks.registry import get

        get(value)  # raises "unknown task ... Did you mean ..."
        return value

    @model_validator(mode="after")
    def _known_options(self) -> TaskSpec:
        from painters.tasks.registry import check_options

        check_options(self.type, self.options)  # typed, before anything loads
        return self

    @property
    def display(self) -> str:
        if self.name:
            return self.name
        return self.type if not self.data else f"{self.type}:{Path(self.data.rstrip('/')).name}"


class RunnerSpec(_Strict):
    chunk: int = Field(default=32, ge=1, description="variants scored per pass over the data (records land per chunk)")
    share: bool = Field(default=True, description="resume variants from the recorded state before their first change")
    seed: int = 0
    compile: bool = Field(
        default=False,
        description="torch.compile each layer (one graph for every plan; for GPUs: see painters.sweep.compiled)",
    )
    compile_backend: str = Field(default="inductor", description="the torch.compile backend when compile is true")


class AttentionDistanceSpec(_Strict):
    """Record the mean attention distance (per layer call and head) of every variant that can have one."""

    images: int = Field(default=64, ge=1, description="images of the model's first task the distances average over")


class AnalysesSpec(_Strict):
    """Analyses recorded per variant next to the scores (``results/<name>/analyses/``)."""

    attention_distance: AttentionDistanceSpec | None = None


class ModelRun(_Strict):
    """One model and the tasks it is scored on (a sweep may hold several, under ``models:``)."""

    model: ModelSpec
    tasks: list[TaskSpec] = Field(min_length=1)


class SweepConfig(_Strict):
    """A whole sweep file: ``model`` + ``tasks``, or ``models`` (a list of ``{model, tasks}``), and the ops."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str | None = None
    model: ModelSpec | None = None
    tasks: list[TaskSpec] | None = Field(default=None, min_length=1)
    models: list[ModelRun] | None = Field(default=None, min_length=1)
    ops: list[SerializeAsAny[Annotated[OpSpec, PlainValidator(validate_op_spec)]]] = Field(min_length=1)
    baseline: bool = True
    runner: RunnerSpec = Field(default_factory=RunnerSpec)
    analyses: AnalysesSpec = Field(default_factory=AnalysesSpec)

    @field_validator("ops", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """``- skip: all`` / ``- skip: {ranges: all}`` / ``- {op: skip, ranges: all}`` all mean the same."""
        return [shorthand(item) for item in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _models(self) -> SweepConfig:
        single = self.model is not None or self.tasks is not None
        if single == (self.models is not None) or (single and (self.model is None or self.tasks is None)):
            raise ValueError("give either 'model' and 'tasks', or 'models' (a list of {model, tasks}), not both")
        _check_unique_names(self)
        return self

    @property
    def runs(self) -> list[ModelRun]:
        """Every (model, tasks) pair of the sweep; a model with a list of stages counts once per stage."""
        return [staged for run in self._file_runs() for staged in _per_stage(run)]

    def stage_runs(self) -> list[tuple[ModelRun, ModelRun]]:
        """``(run as written, its run for one stage)`` for every model that lists stages."""
        return [(run, staged) for run in self._file_runs() if isinstance(run.model.stage, list)
                for staged in _per_stage(run)]  # fmt: skip

    def _file_runs(self) -> list[ModelRun]:
        if self.models is not None:
            return list(self.models)
        return [ModelRun(model=self.model, tasks=self.tasks)]  # type: ignore[arg-type]

    @property
    def task_names(self) -> list[str]:
        """Every task's display name, in file order (unique across the sweep)."""
        return [task.display for run in self.runs for task in run.tasks]

    _source: str = PrivateAttr(default="<sweep>")
    _root: Any = PrivateAttr(default=None)
    _written: dict = PrivateAttr(default_factory=dict)

    def resolve_paths(self, folder: Path) -> None:
        """Relative local paths in ``model.id`` and ``tasks[].data`` resolve against the sweep file's ``folder``
        (so ``painters run /elsewhere/sweep.yaml`` works from any directory): a value that names something there,
        or that starts with ``./`` or ``../``, becomes that path; hub ids and other values stay as written."""

        def resolved(value: str | None) -> str | None:
            if not value or Path(value).expanduser().is_absolute() or value.startswith("package:"):
                return value
            candidate = folder / value
            if candidate.exists() or value.startswith(("./", "../")):
                return str(candidate.resolve())
            return value

        for loc, model in self.model_locations():
            new = resolved(model.id)
            if new != model.id:
                self._written[(*loc, "id")] = model.id
                model.id = new  # type: ignore[misc]
        for loc, task in self.task_locations():
            new = resolved(task.data)
            if new != task.data:
                self._written[(*loc, "data")] = task.data
                task.data = new  # type: ignore[misc]
            for key, value in list(task.options.items()):  # option paths (COCO annotations=, images=, ...)
                new = resolved(value) if isinstance(value, str) else value
                if new != value:
                    self._written[(*loc, "options", key)] = value
                    task.options[key] = new

        self.expand_stages()

    def expand_stages(self) -> None:
        """``stage: all`` becomes the list of stages that hold blocks, from the model's ``config.json`` (its
        ``depths``), once paths are resolved; a model whose config cannot be read or has no stages is a
        :class:`SweepError` naming the file, line and fix."""
        from painters.sweep.loading import config_json

        for loc, model in self.model_locations():
            if model.stage != "all":
                continue
            data = config_json(model, online=True)  # from the hub when it answers, as loading the model would
            where = self.locate((*loc, "stage"))
            if data is None:
                raise SweepError(
                    f"{where}: 'all' is read from {model.id}'s config.json, which is not available here; list the "
                    f"stages instead, e.g. stage: [0, 1, 2, 3]."
                )
            depths = data.get("depths")
            if not isinstance(depths, list) or not depths:
                raise SweepError(
                    f"{where}: stage: all is for staged models (a config.json with 'depths', e.g. Swin); "
                    f"{model.id} (model_type {data.get('model_type')!r}) has none: drop the stage field."
                )
            self._written.setdefault((*loc, "stage"), "all")
            model.stage = [k for k, depth in enumerate(depths) if depth]  # type: ignore[misc]
            try:
                _check_unique_names(self)
            except ValueError as exc:
                raise SweepError(f"{where}: {exc}") from None

    def locate(self, loc: tuple[Any, ...]) -> str:
        """``"FILE, line N, tasks[0].data"``: where a field sits in the sweep file, for error messages."""
        node = _node_at(self._root, loc) if self._root is not None else None
        line = f", line {node.start_mark.line + 1}" if node is not None else ""
        return f"{self._source}{line}, {_format_loc(loc)}"

    def task_locations(self) -> list[tuple[tuple[Any, ...], TaskSpec]]:
        """Every task spec with its location in the file."""
        if self.models is not None:
            return [
                (("models", r, "tasks", i), t) for r, run in enumerate(self.models) for i, t in enumerate(run.tasks)
            ]
        return [(("tasks", i), t) for i, t in enumerate(self.tasks or [])]

    def model_locations(self) -> list[tuple[tuple[Any, ...], ModelSpec]]:
        if self.models is not None:
            return [(("models", r, "model"), run.model) for r, run in enumerate(self.models)]
        return [(("model",), self.model)] if self.model is not None else []

    def _as_written(self) -> dict[str, Any]:
        """The config as data, with local paths as written in the file (a moved checkout keeps its records)."""
        data = self.model_dump(
            mode="json",
            exclude={"description": True, "runner": {"chunk", "compile", "compile_backend"}, "analyses": True},
        )
        for loc, value in self._written.items():
            node = data
            for key in loc[:-1]:
                node = node[key]
            node[loc[-1]] = value
        for spec in [data.get("model")] + [run.get("model") for run in data.get("models") or []]:
            if isinstance(spec, dict) and spec.get("tower") is None:
                spec.pop("tower", None)  # added later: sweeps without a tower keep their fingerprint
        return data

    def fingerprint(self) -> str:
        """A hash of everything that decides the records (not the display-only fields)."""
        return hashlib.sha256(json.dumps(self._as_written(), sort_keys=True).encode()).hexdigest()[:16]

    def producers(self) -> dict[tuple[str, str], dict[str, Any]]:
        """What produces each (model, task)'s records, by their display names: the model spec (not its display
        name or device), the task spec (not its display name) and the runner's seed. Records are keyed by this,
        so ops and tasks can be added to a finished sweep without losing work (:meth:`ResultStore.open`)."""
        data = self._as_written()
        runs = data["models"] if data.get("models") is not None else [{"model": data["model"], "tasks": data["tasks"]}]
        out = {}
        for run, file_run in zip(runs, self._file_runs()):
            for spec_run in _per_stage(file_run):
                model = {k: v for k, v in run["model"].items() if k not in ("name", "device")}
                if isinstance(file_run.model.stage, list):
                    model["stage"] = spec_run.model.stage
                for task, spec in zip(run["tasks"], spec_run.tasks):
                    task = {k: v for k, v in task.items() if k != "name"}
                    out[(spec_run.model.display, spec.display)] = {
                        "model": model,
                        "task": task,
                        "runner": {"seed": self.runner.seed},
                    }
        return out


def _check_unique_names(config: SweepConfig) -> None:
    names = [run.model.display for run in config.runs]
    if len(set(names)) != len(names):
        raise ValueError(f"model display names must be unique, got {names}; set model.name")
    tasks = [task.display for run in config.runs for task in run.tasks]
    if len(set(tasks)) != len(tasks):
        raise ValueError(f"task names must be unique across the sweep, got {tasks}; set tasks[i].name")


def _per_stage(run: ModelRun) -> list[ModelRun]:
    """A run whose model lists stages as one run per stage (model and tasks named ``...@stage<k>``); ``stage: all``
    counts as one run until :meth:`SweepConfig.expand_stages` reads the stages."""
    stages = run.model.stage
    if not isinstance(stages, list):
        return [run]
    return [
        ModelRun(
            model=run.model.model_copy(update={"stage": k, "name": f"{run.model.display}@stage{k}"}),
            tasks=[task.model_copy(update={"name": f"{task.display}@stage{k}"}) for task in run.tasks],
        )
        for k in stages
    ]


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The YAML node at a pydantic error location (best effort: the deepest node that exists)."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                # shorthand `- skip: {...}`: the op's params sit one level down
                inner = node.value[0][1] if len(node.value) == 1 else None
                match = (
                    next((v for k, v in inner.value if k.value == key), None)
                    if isinstance(inner, yaml.MappingNode)
                    else None
                )
            if match is None:
                return node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "(top level)"


def parse_sweep(text: str, source: str = "<string>") -> SweepConfig:
    """Parse and validate sweep YAML; :class:`SweepError` names the file, line, field, value and the fix."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SweepError(f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise SweepError(f"{source}: not valid YAML: nested too deeply.") from None
    except (ValueError, TypeError, IndexError, KeyError) as exc:  # a tagged scalar that does not convert (!!int abc)
        raise SweepError(
            f"{source}: not valid YAML: a value could not be converted ({type(exc).__name__}: {exc})."
        ) from None
    if not isinstance(data, dict):
        raise SweepError(
            f"{source}: a sweep file is a mapping with keys name, model, tasks, ops; got {type(data).__name__}."
        )
    try:
        config = SweepConfig.model_validate(data)
        config._source, config._root = source, root
        return config
    except ValidationError as exc:
        lines = []
        errors = [
            (
                tuple(
                    k
                    for k in e["loc"]
                    if not (
                        isinstance(k, str)
                        and (k[:1].isupper() or k.startswith(("function-", "literal[", "list[", "int", "str")))
                    )
                ),
                e,
            )
            for e in exc.errors()
        ]
        deeper = {loc[:n] for loc, _ in errors for n in range(len(loc))}
        for loc, err in errors:
            if loc in deeper:  # a union's other branch failed deeper down: that error is the useful one
                continue
            node = _node_at(root, loc)
            line = f", line {node.start_mark.line + 1}" if node is not None else ""
            value = err.get("input")
            shown = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{source}{line}, {_format_loc(loc)}: {msg}{shown}")
        raise SweepError("\n".join(lines)) from None


def load_sweep(path: str | Path) -> SweepConfig:
    """Read and validate a sweep file."""
    path = Path(path)
    if not path.is_file():
        raise SweepError(f"{path}: no such sweep file.")
    config = parse_sweep(path.read_text(), str(path))
    config.resolve_paths(path.resolve().parent)
    return config

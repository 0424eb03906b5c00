"""The experiment schema, YAML loading, ``--set`` overrides and error messages that name the key.

Flow: ``yaml.safe_load`` -> ``--set`` overrides on the raw mapping -> pydantic validation ->
frozen ``ExperimentConfig``. Each component section (``data``, ``balance``, ``model``) is a
discriminated union over its registry, keyed by ``name``.
"""

from __future__ import annotations

import copy
import difflib
import re
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_origin

import yaml
from pydantic import BaseModel, BeforeValidator, Field, ValidationError, model_validator

from seqexp import components  # noqa: F401  (fills the registries)
from seqexp.config.section import Section
from seqexp.errors import ConfigError
from seqexp.registry import BALANCERS, DATA_SOURCES, MODELS, Registry
from seqexp.tuning.config import TuneConfig


def _component_union(registry: Registry) -> Any:
    classes = tuple(entry.config_class for entry in registry)
    if len(classes) == 1:
        return classes[0]
    return Annotated[Union[classes], Field(discriminator="name")]  # noqa: UP007


DataConfig = _component_union(DATA_SOURCES)
BalanceConfig = _component_union(BALANCERS)
ModelConfig = _component_union(MODELS)

# Sections that pick a component by ``name``, and where their config classes come from.
COMPONENT_SECTIONS: dict[str, Registry] = {"data": DATA_SOURCES, "balance": BALANCERS, "model": MODELS}


class SplitConfig(Section):
    """Stratified train / validation / test fractions, or k-fold cross-validation plus a held-out test."""

    method: Literal["holdout", "kfold"] = Field(
        "holdout",
        description="holdout: one train/val/test split; kfold: hold out test, a model per fold of the rest.",
    )

    train: float = Field(0.8, gt=0, lt=1, description="Fraction of customers used for training.")
    val: float = Field(0.1, gt=0, lt=1, description="Fraction used for early stopping and the threshold.")
    test: float = Field(0.1, gt=0, lt=1, description="Fraction held out for the reported metrics.")
    seed: int | None = Field(
        None,
        ge=0,
        description="Seed of the split; null uses the experiment seed (fix it to vary weights only).",
    )
    folds: int = Field(5, ge=2, le=100, description="kfold only: number of folds of the non-test rows.")
    stratified: bool = Field(True, description="kfold only: keep the class ratio in every fold.")
    fold: int | None = Field(
        None, ge=0, description="kfold only: train just this fold (0-based), as one ordinary run."
    )

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitConfig:
        if self.method == "kfold":  # train/val fractions are set by the folds; only `test` is used
            if self.fold is not None and self.fold >= self.folds:
                raise ValueError(f"fold {self.fold} does not exist with {self.folds} folds (0-based)")
            return self
        if self.fold is not None:
            raise ValueError("fold applies only with method: kfold")
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must sum to 1 (got {total:g})")
        return self


class EarlyStoppingConfig(Section):
    """Stop when the monitored validation metric stops improving; keep the best weights."""

    monitor: Literal["val_loss", "val_pr_auc", "val_auc", "loss", "pr_auc", "auc"] = Field(
        "val_loss", description="Metric to watch (val_ metrics are measured on the validation split)."
    )
    mode: Literal["auto", "min", "max"] = Field("auto", description="Whether lower or higher is better.")
    patience: int = Field(5, ge=0, description="Epochs without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as improvement.")
    restore_best_weights: bool = Field(True, description="Roll back to the best epoch's weights.")


class FocalConfig(Section):
    """Focal loss settings (keras.losses.BinaryFocalCrossentropy)."""

    gamma: float = Field(
        2.0, ge=0, le=10, description="Focusing power: how much easy rows are down-weighted."
    )
    alpha: float | None = Field(
        0.25, gt=0, lt=1, description="Weight of the positive class (1 - alpha for negatives); null: none."
    )


class ReduceLRConfig(Section):
    """Lower the learning rate when the monitored validation metric stalls."""

    monitor: Literal["val_loss", "val_pr_auc", "val_auc", "loss", "pr_auc", "auc"] = Field(
        "val_loss", description="Metric to watch."
    )
    mode: Literal["auto", "min", "max"] = Field("auto", description="Whether lower or higher is better.")
    factor: float = Field(0.5, gt=0, lt=1, description="Multiply the learning rate by this on a plateau.")
    patience: int = Field(2, ge=0, description="Epochs without improvement before lowering it.")
    min_lr: float = Field(1e-6, ge=0, description="Never go below this learning rate.")


class TrainConfig(Section):
    """How the model is fitted."""

    epochs: int = Field(30, ge=1, le=100_000, description="Maximum number of passes over the data.")
    batch_size: int = Field(256, ge=1, le=1_000_000, description="Rows per gradient step.")
    learning_rate: float = Field(1e-3, gt=0, le=10, description="Optimizer step size.")
    optimizer: Literal["adam", "adamw", "rmsprop", "sgd"] = Field("adam", description="Keras optimizer.")
    early_stopping: EarlyStoppingConfig | None = Field(
        default_factory=EarlyStoppingConfig, description="Early stopping on validation; null turns it off."
    )
    tensorboard: bool = Field(True, description="Write TensorBoard logs into the run folder.")
    loss: Literal["binary_crossentropy", "focal"] = Field(
        "binary_crossentropy", description="Classifier loss; focal down-weights easy, plentiful rows."
    )
    focal: FocalConfig = Field(default_factory=FocalConfig, description="Used when loss is focal.")
    reduce_lr: ReduceLRConfig | None = Field(
        None, description="ReduceLROnPlateau settings; null (default) keeps the learning rate fixed."
    )
    distribute: Literal["none", "mirrored"] = Field(
        "none",
        description="mirrored: tf.distribute.MirroredStrategy over all visible GPUs (one replica on CPU).",
    )


class MinRecall(Section):
    """Highest-precision threshold whose validation recall stays at or above this value."""

    min_recall: float = Field(gt=0, le=1)


class TopKPercent(Section):
    """Threshold that flags the top K percent of validation scores (a campaign budget)."""

    top_k_percent: float = Field(gt=0, lt=100)


ThresholdRule = float | Literal["max_f1", "max_mcc"] | MinRecall | TopKPercent


def _parse_threshold(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, max_f1, max_mcc, {min_recall: R} or {top_k_percent: P}")
    if isinstance(value, int | float):
        if not -1e300 < value < 1e300 or not 0.0 < float(value) < 1.0:  # (10**400 overflows float)
            raise ValueError(f"a fixed threshold must lie strictly between 0 and 1 (got {_show(value)})")
        return float(value)
    if isinstance(value, str) and value in ("max_f1", "max_mcc"):
        return value
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key == "min_recall":
            return MinRecall(**value)
        if key == "top_k_percent":
            return TopKPercent(**value)
    if isinstance(value, MinRecall | TopKPercent):
        return value
    raise ValueError(
        f"{_show(value)} is not a threshold rule; use a number in (0, 1), max_f1, max_mcc, "
        "{min_recall: 0.6} or {top_k_percent: 10}"
    )


class EvaluateConfig(Section):
    """How scores become decisions, and what the model is compared against."""

    threshold: Annotated[ThresholdRule, BeforeValidator(_parse_threshold)] = Field(
        0.5, description="Fixed number, or a rule applied on the VALIDATION split (never test)."
    )
    baseline: Literal["logistic_regression", "gradient_boosting", "none"] = Field(
        "logistic_regression",
        description="Non-neural model trained on the same split and shown beside the main model.",
    )
    risk_bands: list[float] = Field(
        [0.3, 0.7], description="Score cut points of the risk levels given by 'seqexp predict' (increasing)."
    )
    risk_levels: list[str] = Field(
        ["low", "medium", "high"], description="Names of the risk levels: one more than risk_bands."
    )

    @model_validator(mode="after")
    def _bands_fit_levels(self) -> EvaluateConfig:
        check_risk_bands(self.risk_bands, self.risk_levels)
        return self


def check_risk_bands(bands: list[float], levels: list[str]) -> None:
    """Cut points strictly increasing inside (0, 1), and one level name more than cut points."""
    if any(not 0.0 < b < 1.0 for b in bands) or any(a >= b for a, b in zip(bands, bands[1:], strict=False)):
        raise ValueError(f"risk_bands must increase strictly inside (0, 1) (got {bands})")
    if len(levels) != len(bands) + 1:
        raise ValueError(
            f"{len(bands)} risk_bands cut scores into {len(bands) + 1} levels, but risk_levels names "
            f"{len(levels)}"
        )


class ExperimentConfig(Section):
    """One declared experiment."""

    name: str = Field("experiment", min_length=1, max_length=120, description="Run name (folder suffix).")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Seeds data generation, splits and weights.")
    repeats: int = Field(
        1, ge=1, le=1000, description="Train seeds seed, seed+1... on one split; report mean +- std."
    )
    data: DataConfig = Field(
        default_factory=lambda: DATA_SOURCES.get("synthetic_transactions").config_class()
    )
    split: SplitConfig = Field(default_factory=SplitConfig)
    balance: BalanceConfig = Field(default_factory=lambda: BALANCERS.get("none").config_class())
    model: ModelConfig = Field(default_factory=lambda: MODELS.get("lstm").config_class())
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    tracking: Literal["none", "mlflow"] = Field(
        "none",
        description="mlflow: also log params, metrics and the run folder to MLflow (the mlflow extra).",
    )
    tune: TuneConfig | None = Field(
        None, description="Hyperparameter search for `seqexp tune` (docs/tune.md)."
    )


# --------------------------------------------------------------------------- loading


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # ``<<: *base`` then overriding keys is fine
            continue
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # an unhashable key: PyYAML's own constructor reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in the same mapping", key_node.start_mark
            )
    yield from loader.construct_yaml_map(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _mapping_without_duplicates)


def safe_load(text: str) -> Any:
    """``yaml.safe_load``, but a duplicated key is an error instead of a silent overwrite."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path) -> Any:
    """Read a YAML file safely; a missing file or a syntax error becomes a ``ConfigError``."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, ["no such file"]) from None
    except IsADirectoryError:
        raise ConfigError(source, ["is a folder, not a YAML file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [f"cannot be read ({exc})"]) from None
    try:
        return safe_load(text)
    except (ValueError, RecursionError) as exc:  # PyYAML lets these through (10**5000, [[[[...]]]])
        raise ConfigError(source, [f"malformed YAML: {_yaml_failure(exc)}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(source, [f"malformed YAML: {where}{problem}"]) from None


# What PyYAML raises besides YAMLError: ValueError for integers past Python's 4,300-digit
# int-string limit, RecursionError for nesting thousands deep.
YAML_FAILURES = (yaml.YAMLError, ValueError, RecursionError)


def _yaml_failure(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if "digits" in str(exc):
        return "a number with too many digits"
    return str(exc).splitlines()[0][:200]


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b=value`` -> (['a', 'b'], value parsed as YAML)."""
    if "=" not in text:
        raise ConfigError("--set", [f"{_show(text)} is not KEY=VALUE (e.g. --set train.epochs=3)"])
    key, raw = text.split("=", 1)
    key = key.strip()
    if not _KEY.match(key):
        raise ConfigError("--set", [f"{_show(key)} is not a dotted config path (e.g. model.units)"])
    try:
        value = safe_load(raw) if raw.strip() else None
    except YAML_FAILURES:
        raise ConfigError("--set", [f"{key}: value {_show(raw)} is not valid YAML"]) from None
    return key.split("."), value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``raw`` with each ``--set`` applied in order.

    A mapping value replaces the whole section (so ``model={name: gru}`` gets GRU's defaults);
    a scalar sets one field. Unknown keys are caught later by validation, like YAML typos.
    """
    result = copy.deepcopy(raw) if raw else {}
    for text in overrides:
        keys, value = parse_override(text)
        node = result
        for depth, key in enumerate(keys[:-1]):
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            elif not isinstance(child, dict):
                where = ".".join(keys[: depth + 1])
                raise ConfigError("--set", [f"{_show(text)}: '{where}' is a value, not a section"])
            node = child
        node[keys[-1]] = value
    return result


def load_config(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Load, override and validate an experiment config; all problems become one ``ConfigError``."""
    path = Path(path)
    raw = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            str(path), [f"expected a mapping of sections (name, data, model...), got {type(raw).__name__}"]
        )
    raw = apply_overrides(raw, overrides or [])
    return validate_config(raw, source=str(path), config_dir=path.parent, overrides=overrides)


def validate_config(
    raw: dict[str, Any],
    *,
    source: str = "<config>",
    config_dir: Path | None = None,
    overrides: list[str] | None = None,
) -> ExperimentConfig:
    """Validate a raw mapping; relative paths resolve against ``config_dir``."""
    try:
        cfg = ExperimentConfig.model_validate(
            raw, context={"config_dir": str(config_dir) if config_dir else None}
        )
    except ValidationError as exc:
        set_keys = {o.split("=", 1)[0].strip() for o in overrides or []}
        problems = []
        for err in exc.errors(include_url=False):
            message = format_error(err)
            if message.split(":", 1)[0] in set_keys:
                message += " (from --set)"
            if message not in problems:
                problems.append(message)
        raise ConfigError(source, problems) from None
    if cfg.tune is not None:  # space keys must be config paths; checked against the whole schema
        from seqexp.tuning.space import space_problems

        if problems := space_problems(cfg):
            raise ConfigError(source, problems)
    return cfg


def to_yaml(config: ExperimentConfig) -> str:
    """The resolved config as YAML, in schema order; loads back to an equal config."""
    exclude = {"tune"} if config.tune is None else None  # train configs stay free of an empty section
    data = config.model_dump(mode="json", by_alias=True, exclude=exclude)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


# --------------------------------------------------------------------------- error messages


def _walk(loc: tuple[Any, ...]) -> tuple[list[str], type[BaseModel] | None]:
    """Turn a pydantic error location into a YAML path and the config class that holds its leaf.

    Pydantic inserts the discriminator tag (``('model', 'lstm', 'unit')``) and union member
    names into locations; a user only knows the YAML keys, so those are dropped.
    """
    path: list[str] = []
    current: type[BaseModel] | None = ExperimentConfig
    parent: type[BaseModel] | None = ExperimentConfig
    items = list(loc)
    i = 0
    while i < len(items):
        item = items[i]
        path.append(str(item))
        parent = current
        field = current.model_fields.get(str(item)) if current else None
        current = None
        if field is not None:
            if parent is ExperimentConfig and str(item) in COMPONENT_SECTIONS:
                registry = COMPONENT_SECTIONS[str(item)]
                if i + 1 < len(items) and items[i + 1] in registry:
                    current = registry.get(items[i + 1]).config_class
                    i += 1  # skip the tag
            else:
                ann = field.annotation
                candidates = [ann, *getattr(ann, "__args__", ())]
                current = next(
                    (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
                )
                if current is None and get_origin(ann) in (Union, UnionType):
                    break  # union member names follow (``dict[int,float]``); they mean nothing in YAML
                if str(item) == "threshold":
                    break
        i += 1
    return path, parent


def format_error(err: dict[str, Any]) -> str:
    """One pydantic error -> ``yaml.path: what is wrong; how to fix it``."""
    kind = err["type"]
    loc = tuple(err.get("loc", ()))
    path, holder = _walk(loc)
    where = ".".join(path) or "(top level)"
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        known = list(holder.model_fields) if holder else []
        close = difflib.get_close_matches(path[-1], known, n=1)
        hint = (
            f"; did you mean '{close[0]}'?"
            if close
            else (f"; known keys: {', '.join(known)}" if known else "")
        )
        return f"{where}: unknown key{hint}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        registry = COMPONENT_SECTIONS.get(path[0]) if path else None
        names = ", ".join(registry.names()) if registry else ctx.get("expected_tags", "")
        if kind == "union_tag_not_found":
            return f"{where}.name: missing; one of {names}"
        return f"{where}.name: '{ctx.get('tag')}' is not one of {names}"
    if kind == "invalid_key":  # a YAML key that is a number, boolean or null where names belong
        parent = ".".join(path[:-1]) or "(top level)"
        return f"{parent}: key {_show(err.get('input'))} is not a name; keys here are words such as 'epochs'"
    if kind == "missing":
        return f"{where}: required but missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where}: expected a mapping of keys, got {_show(err.get('input'))}"
    message = str(err.get("msg", "invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return (
        f"{where}: {message[0].lower() + message[1:] if message else message} (got {_show(err.get('input'))})"
    )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

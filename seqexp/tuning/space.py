"""The search space: dotted config paths <-> keras-tuner hyperparameters, and trial configs.

A trial's config is the base config (resolved, without ``tune``) with the sampled values written
in, validated by the same schema as ``seqexp train``. When a component's ``name`` is searched
(``balance.name: {choice: [smote, class_weight]}``), each choice starts from that component's
defaults and keeps the base values of the fields it shares; a searched field that only some
choices have (``balance.k_neighbors``) becomes a keras-tuner conditional hyperparameter, active
only under those choices.
"""

from __future__ import annotations

import copy
import decimal
import difflib
import json
import math
from typing import Any

from pydantic import BaseModel

from seqexp.config.experiment import COMPONENT_SECTIONS, ExperimentConfig
from seqexp.config.validation import validate_sections
from seqexp.errors import ConfigError
from seqexp.tuning.config import tune_of

# Prepared once per search and shared by every trial, or not about training at all.
FIXED = {
    "name": "names the search",
    "seed": "seeds the data and the split, which are prepared once per search",
    "data": "the data is prepared once per search",
    "split": "the split is prepared once per search",
    "evaluate": "it does not change training, so every value would score the same",
    "tune": "the search cannot search itself",
}


def base_raw(cfg: ExperimentConfig) -> dict[str, Any]:
    """The resolved config without its ``tune`` section: the starting point of every trial."""
    return cfg.model_dump(mode="json", by_alias=True, exclude={"tune"})


def _native(values: list[Any]) -> bool:
    """keras-tuner's Choice holds values of one scalar type; anything else is JSON-encoded."""
    kinds = {type(v) for v in values}
    return len(kinds) == 1 and kinds <= {int, float, str, bool}


def encode(dist: Any) -> list[Any]:
    return list(dist.choice) if _native(dist.choice) else [json.dumps(v, sort_keys=True) for v in dist.choice]


def decode(dist: Any, value: Any) -> Any:
    """A keras-tuner value back to the config value it stands for (a float at the precision it was
    sampled at: the trial trains with the value its config and ``best_config.yaml`` show)."""
    if dist.kind == "choice" and not _native(dist.choice):
        return json.loads(value)
    if dist.kind == "int":
        return int(value)
    if dist.kind == "float":
        return sampled_precision(dist, float(value))
    return value


def _places(number: float) -> int:
    """Decimal places of a number as written (0.05 -> 2, 1e-4 -> 4, 3.0 -> 0)."""
    exponent = decimal.Decimal(repr(float(number))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def sampled_precision(dist: Any, value: float) -> float:
    """``value`` rounded to what its distribution can tell apart: a linear ``step`` grid to the
    places of ``lo`` and ``step`` (``step: 0.1`` gives 0.3, not 0.30000000000000004), a log range to
    4 significant digits, any other range to 4 significant digits of its width (never below the
    places of ``lo``), kept inside the range."""
    lo, hi = dist.float_range
    if not math.isfinite(value):
        return value
    if dist.log:
        rounded = float(f"{value:.4g}")
    elif dist.step:
        rounded = round(value, max(_places(dist.step), _places(lo)))
    else:
        width = math.floor(math.log10(hi - lo) + 1e-9)  # 100.1 - 100 is 0.0999...: still 10^-1
        rounded = round(value, max(3 - width, _places(lo)))
    return min(max(rounded, lo), hi) + 0.0  # + 0.0: never -0.0


def _component_sections() -> dict[str, Any]:
    return COMPONENT_SECTIONS


def _field_class(holder: type[BaseModel], name: str) -> type[BaseModel] | None:
    """The Section class a field holds (for nested paths such as train.early_stopping.patience)."""
    field = holder.model_fields.get(name)
    if field is None:
        return None
    for candidate in (field.annotation, *getattr(field.annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _has_path(holder: type[BaseModel], parts: list[str]) -> bool:
    for i, part in enumerate(parts):
        if part not in holder.model_fields:
            return False
        if i < len(parts) - 1:
            nested = _field_class(holder, part)
            if nested is None:
                return False
            holder = nested
    return True


def conditions(key: str, space: dict[str, Any], base: dict[str, Any]) -> list[str] | None:
    """Component names under which ``key`` exists, when that section's ``name`` is searched; None when
    the key does not depend on a searched name."""
    section, *rest = key.split(".")
    registry = _component_sections().get(section)
    name_key = f"{section}.name"
    if registry is None or key == name_key or name_key not in space:
        return None
    names = [n for n in space[name_key].choice or [] if isinstance(n, str) and n in registry]
    return [n for n in names if _has_path(registry.get(n).config_class, rest)]


def _known_paths(base: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, value in base.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, dict):
            paths.extend(_known_paths(value, f"{path}."))
    return paths


def path_problems(key: str, space: dict[str, Any], base: dict[str, Any]) -> str | None:
    """Why ``key`` cannot be searched, or None."""
    section, *rest = key.split(".")
    if section in FIXED:
        return f"tune.space.{key}: cannot be searched ({FIXED[section]})"
    registry = _component_sections().get(section)
    if registry is not None:
        base_class = registry.get(base[section]["name"]).config_class
        allowed = conditions(key, space, base)
        if _has_path(base_class, rest) or allowed:
            return None
    elif section in ExperimentConfig.model_fields:
        nested = _field_class(ExperimentConfig, section)
        if nested is not None and _has_path(nested, rest):
            return None
    close = difflib.get_close_matches(key, _known_paths(base), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else "; see the resolved config (seqexp validate)"
    return f"tune.space.{key}: not a config path{hint}"


def apply_values(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``values`` (dotted path -> config value) written in."""
    raw = copy.deepcopy(base)
    for section, registry in _component_sections().items():
        name = values.get(f"{section}.name")
        if name is None or name == raw[section].get("name"):
            continue
        if isinstance(name, str) and name in registry:
            fields = registry.get(name).config_class.model_fields
            raw[section] = {k: v for k, v in raw[section].items() if k in fields}
        else:
            raw[section] = {}  # validation then names the unknown component
        raw[section]["name"] = name
    for key, value in values.items():
        node = raw
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return raw


def trial_config(base: dict[str, Any], values: dict[str, Any], source: str) -> ExperimentConfig:
    """Write sampled values into a copy of the base config and validate it like any config."""
    return validate_sections(apply_values(base, values), source=source)


def space_problems(cfg: ExperimentConfig) -> list[str]:
    """Every problem with ``tune_of(cfg).space``: unknown or fixed paths, values the schema refuses."""
    space = tune_of(cfg).space
    base = base_raw(cfg)
    problems = [p for key in space if (p := path_problems(key, space, base))]
    if problems:
        return problems
    for key, dist in space.items():
        allowed = conditions(key, space, base)
        for value in dist.candidates():
            values = {key: value}
            if allowed:
                values[key.split(".")[0] + ".name"] = allowed[0]
            try:
                trial_config(base, values, source="")
            except ConfigError as exc:
                reasons = "; ".join(p for p in exc.problems)
                problems.append(f"tune.space.{key}: value {value!r} is refused by the schema ({reasons})")
    if tune_of(cfg).tuner == "hyperband" and (
        others := [n for n in _model_names(space, base) if not is_keras(n)]
    ):
        verb = "is not a Keras model" if len(others) == 1 else "are not Keras models"
        problems.append(
            f"tune.tuner: hyperband gives each trial a budget of epochs, and {', '.join(others)} "
            f"{verb} trained in epochs; use tuner: random or bayesian"
        )
    return problems


def is_keras(model_name: str) -> bool:
    """Whether a registered model is a Keras architecture, trained epoch by epoch in the tuner's own
    loop; any other model (LightGBM, scikit-learn) is trained by its builder's ``fit``, as
    ``seqexp train`` trains it (``seqexp.tuning.estimator_trial``)."""
    from seqexp.registry import MODELS

    return "architecture" in MODELS.get(model_name).extras


def _model_names(space: dict[str, Any], base: dict[str, Any]) -> list[str]:
    """The models a search may train: the searched ``model.name`` choices, else the base model."""
    from seqexp.registry import MODELS

    dist = space.get("model.name")
    names = list(dist.choice) if dist is not None and dist.choice else [base["model"]["name"]]
    return [n for n in names if isinstance(n, str) and n in MODELS]


def declare(hp: Any, space: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Declare the space on a keras-tuner ``HyperParameters`` and return the active config values."""
    values: dict[str, Any] = {}
    # Component names first: conditional hyperparameters refer to them.
    ordered = sorted(space, key=lambda k: (not k.endswith(".name"), k))
    for key in ordered:
        dist = space[key]
        allowed = conditions(key, space, base)
        if allowed is not None:
            parent = key.split(".")[0] + ".name"
            with hp.conditional_scope(parent, allowed):
                value = _declare_one(hp, key, dist)
            if hp.is_active(key):
                values[key] = decode(dist, value)
        else:
            values[key] = decode(dist, _declare_one(hp, key, dist))
    return values


def _declare_one(hp: Any, key: str, dist: Any) -> Any:
    sampling = "log" if dist.log else "linear"
    if dist.kind == "int":
        lo, hi = dist.int_range
        return hp.Int(key, lo, hi, step=int(dist.step) if dist.step else None, sampling=sampling)
    if dist.kind == "float":
        lo, hi = dist.float_range
        return hp.Float(key, lo, hi, step=dist.step, sampling=sampling)
    return hp.Choice(key, encode(dist))


def values_from(hp_values: dict[str, Any], space: dict[str, Any]) -> dict[str, Any]:
    """Config values of a finished trial's hyperparameters (inactive ones are absent)."""
    return {key: decode(dist, hp_values[key]) for key, dist in space.items() if key in hp_values}

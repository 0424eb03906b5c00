"""Balancers (registry ``balancers``): applied to the TRAINING split only.

Each builder turns its config into a ``BalancePlan`` (an imbalanced-learn sampler, class weights,
or neither); ``balance`` applies it to 2-D tables or 3-D sequences. For sequences the sampler sees each
customer flattened to one row (with the padding mask appended, and the static vector beside the
sequence, if any, after it: a synthetic row's sequence and static parts come from the same
neighbours and the same interpolation), and synthetic rows are then repaired so they stay valid:
padded steps stay padding, one-hot blocks stay one-hot, values stay in the training rows' range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqexp.config.section import Section
from seqexp.data.inputs import ModelInput, model_input
from seqexp.errors import DataError
from seqexp.registry import BALANCERS


@dataclass(frozen=True)
class BalancePlan:
    """What a balancer builder returns: at most one of a sampler and class weights."""

    sampler: Any | None = None  # an imbalanced-learn sampler (fit_resample) for the training rows
    class_weight: dict[int, float] | None = None  # weights for the loss, rows left as they are


Strategy = float | Literal["auto", "minority", "majority", "not minority", "not majority", "all"]
STRATEGY_HELP = "imbalanced-learn sampling_strategy: 'auto', or minority/majority ratio after resampling"


class NoBalanceConfig(Section):
    """Train on the natural class ratio."""

    name: Literal["none"] = "none"


class ClassWeightConfig(Section):
    """Weight the loss by class instead of resampling (weights inversely proportional to counts)."""

    name: Literal["class_weight"] = "class_weight"
    weights: Literal["balanced"] | dict[int, float] = Field(
        "balanced", description="'balanced', or explicit weights per class such as {0: 1, 1: 8}."
    )


class RandomUnderConfig(Section):
    """Randomly drop majority-class rows."""

    name: Literal["random_under"] = "random_under"
    sampling_strategy: Strategy = Field("auto", description=STRATEGY_HELP)
    replacement: bool = Field(False, description="Sample with replacement.")


class RandomOverConfig(Section):
    """Randomly repeat minority-class rows."""

    name: Literal["random_over"] = "random_over"
    sampling_strategy: Strategy = Field("auto", description=STRATEGY_HELP)
    shrinkage: float | None = Field(None, ge=0, description="Smoothed bootstrap (ROSE) when set.")


class SmoteConfig(Section):
    """SMOTE: synthetic minority rows interpolated between near neighbours."""

    name: Literal["smote"] = "smote"
    sampling_strategy: Strategy = Field("auto", description=STRATEGY_HELP)
    k_neighbors: int = Field(5, ge=1, le=1000, description="Neighbours used to interpolate.")


class AdasynConfig(Section):
    """ADASYN: like SMOTE, but more synthetic rows where the minority class is hardest to learn."""

    name: Literal["adasyn"] = "adasyn"
    sampling_strategy: Strategy = Field("auto", description=STRATEGY_HELP)
    n_neighbors: int = Field(5, ge=1, le=1000, description="Neighbours used to weigh and interpolate.")


class BorderlineSmoteConfig(Section):
    """Borderline-SMOTE: interpolate only from minority rows near the class boundary."""

    name: Literal["borderline_smote"] = "borderline_smote"
    sampling_strategy: Strategy = Field("auto", description=STRATEGY_HELP)
    k_neighbors: int = Field(5, ge=1, le=1000, description="Neighbours used to interpolate.")
    m_neighbors: int = Field(
        10, ge=1, le=1000, description="Neighbours used to decide if a row is in danger."
    )
    kind: Literal["borderline-1", "borderline-2"] = Field(
        "borderline-1", description="borderline-2 also interpolates towards majority neighbours."
    )


class SmoteTomekConfig(Section):
    """SMOTE, then remove Tomek links (pairs of nearest neighbours from different classes)."""

    name: Literal["smote_tomek"] = "smote_tomek"
    sampling_strategy: Strategy = Field("auto", description=STRATEGY_HELP)
    k_neighbors: int = Field(5, ge=1, le=1000, description="SMOTE neighbours used to interpolate.")


class SmoteEnnConfig(Section):
    """SMOTE, then Edited Nearest Neighbours removes rows whose neighbours disagree with their class."""

    name: Literal["smote_enn"] = "smote_enn"
    sampling_strategy: Strategy = Field("auto", description=STRATEGY_HELP)
    k_neighbors: int = Field(5, ge=1, le=1000, description="SMOTE neighbours used to interpolate.")
    enn_neighbors: int = Field(3, ge=1, le=1000, description="ENN neighbours that vote on each row.")
    kind_sel: Literal["all", "mode"] = Field(
        "all", description="ENN removes a row when 'all' (stricter) or the 'mode' of its neighbours disagree."
    )


@BALANCERS.register(NoBalanceConfig)
def build_none(cfg: NoBalanceConfig, *, y: np.ndarray, seed: int) -> BalancePlan:
    return BalancePlan()


@BALANCERS.register(ClassWeightConfig)
def build_class_weight(cfg: ClassWeightConfig, *, y: np.ndarray, seed: int) -> BalancePlan:
    from sklearn.utils.class_weight import compute_class_weight

    if cfg.weights != "balanced":
        return BalancePlan(class_weight={int(k): float(v) for k, v in cfg.weights.items()})
    classes = np.unique(y)
    weights = compute_class_weight("balanced", classes=classes, y=y)
    return BalancePlan(class_weight={int(c): float(w) for c, w in zip(classes, weights, strict=True)})


@BALANCERS.register(RandomUnderConfig)
def build_random_under(cfg: RandomUnderConfig, *, y: np.ndarray, seed: int) -> BalancePlan:
    from imblearn.under_sampling import RandomUnderSampler

    sampler = RandomUnderSampler(
        sampling_strategy=cfg.sampling_strategy, replacement=cfg.replacement, random_state=seed
    )
    return BalancePlan(sampler=sampler)


@BALANCERS.register(RandomOverConfig)
def build_random_over(cfg: RandomOverConfig, *, y: np.ndarray, seed: int) -> BalancePlan:
    from imblearn.over_sampling import RandomOverSampler

    sampler = RandomOverSampler(
        sampling_strategy=cfg.sampling_strategy, shrinkage=cfg.shrinkage, random_state=seed
    )
    return BalancePlan(sampler=sampler)


@BALANCERS.register(SmoteConfig)
def build_smote(cfg: SmoteConfig, *, y: np.ndarray, seed: int) -> BalancePlan:
    from imblearn.over_sampling import SMOTE

    require_neighbours(y, cfg.k_neighbors, "smote")
    sampler = SMOTE(sampling_strategy=cfg.sampling_strategy, k_neighbors=cfg.k_neighbors, random_state=seed)
    return BalancePlan(sampler=sampler)


@BALANCERS.register(AdasynConfig)
def build_adasyn(cfg: AdasynConfig, *, y: np.ndarray, seed: int) -> BalancePlan:
    from imblearn.over_sampling import ADASYN

    require_neighbours(y, cfg.n_neighbors, "adasyn", key="n_neighbors")
    sampler = ADASYN(sampling_strategy=cfg.sampling_strategy, n_neighbors=cfg.n_neighbors, random_state=seed)
    return BalancePlan(sampler=sampler)


@BALANCERS.register(BorderlineSmoteConfig)
def build_borderline_smote(cfg: BorderlineSmoteConfig, *, y: np.ndarray, seed: int) -> BalancePlan:
    from imblearn.over_sampling import BorderlineSMOTE

    require_neighbours(y, cfg.k_neighbors, "borderline_smote")
    if cfg.m_neighbors >= len(y):
        raise DataError(
            f"balance.m_neighbors: {cfg.m_neighbors} is not below the {len(y)} training rows; use fewer"
        )
    sampler = BorderlineSMOTE(
        sampling_strategy=cfg.sampling_strategy,
        k_neighbors=cfg.k_neighbors,
        m_neighbors=cfg.m_neighbors,
        kind=cfg.kind,
        random_state=seed,
    )
    return BalancePlan(sampler=sampler)


@BALANCERS.register(SmoteTomekConfig, tags=("cleaning",))
def build_smote_tomek(cfg: SmoteTomekConfig, *, y: np.ndarray, seed: int) -> BalancePlan:
    from imblearn.combine import SMOTETomek
    from imblearn.over_sampling import SMOTE

    require_neighbours(y, cfg.k_neighbors, "smote_tomek")
    smote = SMOTE(sampling_strategy=cfg.sampling_strategy, k_neighbors=cfg.k_neighbors, random_state=seed)
    sampler = SMOTETomek(smote=smote, random_state=seed)
    return BalancePlan(sampler=sampler)


@BALANCERS.register(SmoteEnnConfig, tags=("cleaning",))
def build_smote_enn(cfg: SmoteEnnConfig, *, y: np.ndarray, seed: int) -> BalancePlan:
    from imblearn.combine import SMOTEENN
    from imblearn.over_sampling import SMOTE
    from imblearn.under_sampling import EditedNearestNeighbours

    require_neighbours(y, cfg.k_neighbors, "smote_enn")
    smote = SMOTE(sampling_strategy=cfg.sampling_strategy, k_neighbors=cfg.k_neighbors, random_state=seed)
    enn = EditedNearestNeighbours(n_neighbors=cfg.enn_neighbors, kind_sel=cfg.kind_sel)
    sampler = SMOTEENN(smote=smote, enn=enn, random_state=seed)
    return BalancePlan(sampler=sampler)


def require_neighbours(y: np.ndarray, k: int, name: str, *, key: str = "k_neighbors") -> None:
    """Neighbour-based samplers need more minority rows than neighbours; say so plainly."""
    minority = int(np.bincount(y).min())
    if minority <= k:
        raise DataError(
            f"balance.{key}: {name} needs more minority rows than {key} ({k}), but the "
            f"training split has {minority}. Use a smaller balance.{key} (at most {minority - 1}) "
            "or another balancer such as random_over or class_weight."
        )


@dataclass(frozen=True)
class Balanced:
    """The training split after balancing.

    ``origin[i]`` is the training row that row ``i`` copies, or -1 for a synthetic row; ``static``
    the rows' static vectors (None when the data has none), ``inputs`` what the model is fitted on.
    """

    X: np.ndarray
    y: np.ndarray
    mask: np.ndarray | None
    origin: np.ndarray
    class_weight: dict[int, float] | None = None
    notes: list[str] = field(default_factory=list)
    static: np.ndarray | None = None

    @property
    def inputs(self) -> ModelInput:
        return model_input(self.X, self.static)

    @property
    def synthetic(self) -> int:
        return int((self.origin < 0).sum())


def class_counts(y: np.ndarray) -> dict[str, int]:
    values, counts = np.unique(y, return_counts=True)
    return {str(int(v)): int(c) for v, c in zip(values, counts, strict=True)}


def balance(
    cfg: Any,
    X: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray | None = None,
    onehot_groups: list[list[int]] | None = None,
    *,
    seed: int,
    static: np.ndarray | None = None,
) -> Balanced:
    """Apply the configured balancer to a training split (never call it on val or test); ``static``:
    the static vectors beside the sequences, resampled with them."""
    plan: BalancePlan = BALANCERS.get(cfg.name).builder(cfg, y=y, seed=seed)
    identity = np.arange(len(y))
    if plan.class_weight is not None:
        weights = plan.class_weight
        return Balanced(X, y, mask, identity, class_weight=weights, notes=[f"class weights {weights}"],
                        static=static)  # fmt: skip
    if plan.sampler is None:
        return Balanced(X, y, mask, identity, notes=["no balancing: natural class ratio"], static=static)
    made = plan.sampler

    n = len(y)
    flat = X.reshape(n, -1)
    if mask is not None:
        flat = np.hstack([flat, mask.astype(X.dtype)])
    if static is not None:
        flat = np.hstack([flat, static.astype(X.dtype)])
    try:
        flat_res, y_res = made.fit_resample(flat, y)
    except ValueError as exc:  # e.g. a sampling_strategy that cannot be met
        raise DataError(f"balance ({cfg.name}): {exc}") from None
    flat_res = np.asarray(flat_res, dtype=X.dtype)
    origin = _origin(made, flat, flat_res)

    steps_features = int(np.prod(X.shape[1:]))
    X_res = flat_res[:, :steps_features].reshape((-1, *X.shape[1:]))
    end = steps_features + (0 if mask is None else mask.shape[1])
    mask_res = None if mask is None else flat_res[:, steps_features:end] >= 0.5
    static_res = None if static is None else np.ascontiguousarray(flat_res[:, end:])
    synthetic = origin < 0
    if synthetic.any():
        low, high = feature_range(X, mask)
        _repair(X_res, mask_res, synthetic, onehot_groups or [], low, high)
        if static is not None and static_res is not None and len(static):  # inside the training range too
            static_res[synthetic] = np.clip(static_res[synthetic], static.min(axis=0), static.max(axis=0))
    kept = np.unique(origin[origin >= 0])
    notes = [
        f"{cfg.name}: {n} -> {len(y_res)} training rows ({int(synthetic.sum())} synthetic, "
        f"{n - len(kept)} of the {n} original rows dropped)"
    ]
    return Balanced(X_res, np.asarray(y_res), mask_res, origin, notes=notes, static=static_res)


def feature_range(X: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature min and max over the real (unpadded) steps of the training rows."""
    rows = X[mask] if mask is not None else X.reshape(-1, X.shape[-1])
    if len(rows) == 0:
        return np.zeros(X.shape[-1], X.dtype), np.zeros(X.shape[-1], X.dtype)
    return rows.min(axis=0), rows.max(axis=0)


def _origin(sampler: Any, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Which input row each output row copies exactly (-1: synthetic), whatever the sampler did.

    A sampler's ``sample_indices_`` is trusted only where the row really is unchanged: the
    smoothed bootstrap of random_over (``shrinkage``) perturbs the rows it picks.
    """
    indices = getattr(sampler, "sample_indices_", None)
    if indices is not None and len(indices) == len(after):
        origin = np.asarray(indices, dtype=np.int64).copy()
        origin[~np.all(after == before[origin], axis=1)] = -1
        return origin
    n = len(before)
    if len(after) >= n and np.array_equal(after[:n], before):  # over-samplers append
        return np.concatenate([np.arange(n), -np.ones(len(after) - n, dtype=np.int64)])
    # Combined samplers (SMOTE then Tomek/ENN cleaning) keep some originals in another order.
    row = np.dtype((np.void, before.dtype.itemsize * before.shape[1]))
    lookup = {key.tobytes(): i for i, key in enumerate(np.ascontiguousarray(before).view(row).ravel())}
    keys = np.ascontiguousarray(after).view(row).ravel()
    return np.array([lookup.get(key.tobytes(), -1) for key in keys], dtype=np.int64)


def _repair(
    X: np.ndarray,
    mask: np.ndarray | None,
    rows: np.ndarray,
    groups: list[list[int]],
    low: np.ndarray,
    high: np.ndarray,
) -> None:
    """Make synthetic rows valid again, in place.

    One-hot blocks are snapped to their strongest level; padded steps are zeroed; every other
    value is kept inside the range the training rows span on real steps. Interpolating samplers
    stay there anyway (convex combinations), noise-adding ones (ROSE) may not. Scaling is an
    increasing map per column, so a raw column that is never negative (counts, amounts) stays
    at or above its own scaled zero: synthetic rows hold no negative counts.
    """
    target = X[rows]
    np.clip(target, low, high, out=target)
    for group in groups:
        block = target[..., group]
        hot = block.argmax(axis=-1)
        fixed = np.zeros_like(block)
        np.put_along_axis(fixed, hot[..., None], 1.0, axis=-1)
        fixed[block.max(axis=-1) <= 0] = 0.0  # an all-zero (unknown level) block stays all-zero
        target[..., group] = fixed
    if mask is not None:
        target[~mask[rows]] = 0.0  # steps that are padding hold no data
    X[rows] = target

"""What limits a search, in numbers a user can set: ``tune.max_trials`` and ``tune.max_minutes``.

Random and Bayesian searches run ``max_trials`` trials. Hyperband's own budget is its plan:
``max_epochs``, ``factor`` and ``hyperband_iterations`` decide how many trials it starts, computed
here from those public parameters with the formula keras-tuner implements (``hyperband_plan``;
``tests/test_tune_budget.py`` runs keras-tuner's own Hyperband and compares). ``max_trials`` caps
every tuner, Hyperband included, and ``max_minutes`` stops any of them starting another trial.
Both are enforced on the oracle that hands out trials (this process, or a distributed search's
chief) through keras-tuner's public ``Oracle.max_trials`` and ``Oracle.create_trial``.

No keras-tuner import here: ``seqexp validate`` explains the budget without TensorFlow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TRIALS = 10  # random and bayesian, when tune.max_trials is null (keras-tuner's own default)


@dataclass(frozen=True)
class HyperbandPlan:
    """Hyperband's trials for one set of parameters: per bracket (largest first, the order keras-tuner
    runs them), the trials of each round and the epochs each of them trains to."""

    brackets: tuple[tuple[tuple[int, int], ...], ...]  # bracket -> rounds -> (trials, epochs)
    iterations: int

    @property
    def per_iteration(self) -> int:
        return sum(size for bracket in self.brackets for size, _ in bracket)

    @property
    def trials(self) -> int:
        return self.per_iteration * self.iterations

    @property
    def first_round(self) -> tuple[int, int]:
        """(trials, epochs) of the first round of the first bracket: trials started before any is
        promoted to more epochs."""
        return self.brackets[0][0]

    def bracket_at(self, trials: int) -> int:
        """The bracket (1-based, counted over all iterations) in which trial number ``trials`` runs."""
        sizes = [sum(size for size, _ in b) for b in self.brackets] * self.iterations
        done = 0
        for number, size in enumerate(sizes, start=1):
            done += size
            if trials <= done:
                return number
        return len(sizes)


def hyperband_plan(max_epochs: int, factor: int, iterations: int = 1) -> HyperbandPlan:
    """Hyperband's plan (Li et al. 2018, as keras-tuner implements it): brackets s = s_max .. 0 with
    s_max + 1 = the times ``max_epochs`` can be divided by ``factor`` staying >= 1; bracket s has
    s + 1 rounds; round r starts ceil(ceil(1 + log_factor(max_epochs)) / (s + 1) * factor**(s - r))
    trials, each trained to ceil(max_epochs / factor**(s - r)) epochs."""
    count, epochs = 0, float(max_epochs)
    while epochs >= 1:
        epochs /= factor
        count += 1
    last_size = math.ceil(1 + math.log(max_epochs, factor))
    brackets = []
    for s in reversed(range(count)):
        rounds = tuple(
            (math.ceil(last_size / (s + 1) * factor ** (s - r)), math.ceil(max_epochs / factor ** (s - r)))
            for r in range(s + 1)
        )
        brackets.append(rounds)
    return HyperbandPlan(tuple(brackets), iterations)


def plan_of(tune: Any) -> HyperbandPlan:
    return hyperband_plan(tune.max_epochs, tune.factor, tune.hyperband_iterations)


def trial_cap(tune: Any) -> int:
    """The most trials the search can run: ``max_trials`` (10 when null) for random and Bayesian;
    for Hyperband its plan, or ``max_trials`` when that is smaller."""
    if tune.tuner != "hyperband":
        return tune.max_trials or DEFAULT_TRIALS
    planned = plan_of(tune).trials
    return planned if tune.max_trials is None else min(tune.max_trials, planned)


def oracle_cap(tune: Any) -> int | None:
    """What ``Oracle.max_trials`` is set to: None lets Hyperband end its plan by itself."""
    if tune.tuner == "hyperband":
        return tune.max_trials
    return tune.max_trials or DEFAULT_TRIALS


def _rounds(bracket: tuple[tuple[int, int], ...]) -> str:
    return "->".join(str(size) for size, _ in bracket)


def describe(tune: Any) -> str:
    """One line: what limits this search (``seqexp validate`` prints it, ``run.log`` keeps it)."""
    minutes = ""
    if tune.max_minutes is not None:
        minutes = f"; tune.max_minutes={tune.max_minutes:g} starts no trial after {tune.max_minutes:g} min"
    if tune.tuner != "hyperband":
        source = (
            f"tune.max_trials={tune.max_trials}" if tune.max_trials else "tune.max_trials: null, the default"
        )
        return f"{tune.tuner}: {trial_cap(tune)} trials ({source}){minutes}"
    plan = plan_of(tune)
    epochs = sorted({e for bracket in plan.brackets for _, e in bracket})
    shapes = [_rounds(b) for b in plan.brackets]
    shape = shapes[0] if len(shapes) == 1 else f"{', '.join(shapes[:-1])} and {shapes[-1]}"
    trained = f"{epochs[0]}" if len(epochs) == 1 else f"{epochs[0]} to {epochs[-1]}"
    line = (
        f"hyperband: max_epochs={tune.max_epochs} factor={tune.factor} "
        f"hyperband_iterations={tune.hyperband_iterations} plans {plan.trials} trials "
        f"({'one bracket' if len(shapes) == 1 else 'brackets'} of {shape} trials, {trained} epochs each"
        + (f"; {plan.iterations} times" if plan.iterations > 1 else "")
        + ")"
    )
    if tune.max_trials is None:
        line += "; tune.max_trials: null runs the whole plan"
    elif tune.max_trials < plan.trials:
        where = plan.bracket_at(tune.max_trials)
        line += (
            f"; tune.max_trials={tune.max_trials} stops it after {tune.max_trials} "
            f"(in bracket {where} of {len(plan.brackets) * plan.iterations})"
        )
    else:
        line += f"; tune.max_trials={tune.max_trials} does not limit it"
    return line + minutes


def warnings_for(tune: Any) -> list[str]:
    """Settings that contradict each other, each with what happens and the fix."""
    notes = []
    if tune.tuner == "hyperband":
        plan = plan_of(tune)
        first, first_epochs = plan.first_round
        if len(plan.brackets) == 1:
            notes.append(
                f"tune.max_epochs={tune.max_epochs} is below tune.factor={tune.factor}: hyperband has "
                f"one bracket of {first} trials at {first_epochs} epochs and never promotes a trial; "
                "raise max_epochs, or use tuner: random"
            )
        elif tune.max_trials is not None and tune.max_trials <= first:
            notes.append(
                f"tune.max_trials={tune.max_trials} stops hyperband before it promotes any trial: its "
                f"first bracket starts {first} trials of {first_epochs} epochs before training the best "
                f"longer; raise tune.max_trials to at least {first + 1} (the whole plan: {plan.trials}), "
                "lower tune.max_epochs, or use tuner: random"
            )
        if tune.max_trials is not None and tune.max_trials > plan.trials:
            notes.append(
                f"tune.max_trials={tune.max_trials} is more than hyperband plans ({plan.trials} trials "
                f"for max_epochs={tune.max_epochs}, factor={tune.factor}, hyperband_iterations="
                f"{tune.hyperband_iterations}): it ends after {plan.trials}; raise "
                "tune.hyperband_iterations to run more"
            )
    cap = trial_cap(tune)
    if tune.top_k > cap:
        notes.append(
            f"tune.top_k={tune.top_k} is more than the {cap} trials the search can run: "
            f"at most {cap} top runs; lower tune.top_k or raise tune.max_trials"
        )
    return notes


@dataclass
class TimeBudget:
    """``tune.max_minutes`` on the oracle: once the time is up, it hands out no new trial."""

    minutes: float | None
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    stopped_after: int | None = None  # trials started when the time ran out

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def up(self) -> bool:
        return self.minutes is not None and self.clock() - self.started >= self.minutes * 60

    def install(self, oracle: Any) -> None:
        """Wrap the oracle's ``create_trial`` (the instance's: the chief's gRPC server calls it too)."""
        if self.minutes is None:
            return
        create = oracle.create_trial

        def create_trial(tuner_id: str) -> Any:
            if self.up and self.stopped_after is None:
                # keras-tuner's own stop: no trial beyond those started (a trial waiting for its
                # retry, or one a worker holds, is still handed out first). One trial at least:
                # keras-tuner reads max_trials=0 as "no limit".
                self.stopped_after = max(1, len(oracle.trials))
                oracle.max_trials = self.stopped_after
            return create(tuner_id)

        oracle.create_trial = create_trial

"""Config fuzzing: mutated versions of the shipped configs either validate or raise ``ConfigError``.

Every problem in a ``ConfigError`` starts with a YAML path (``train.epochs: ...``) or is about the
file as a whole (``malformed YAML: line 3...``); nothing else ever escapes ``load_config``. The
examples are generated deterministically (``derandomize=True``), 420 in total.
"""

from __future__ import annotations

import copy
import datetime
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.loading import load_config
from seqexp.config.yaml_io import to_yaml
from seqexp.errors import ConfigError
from tests.conftest import CONFIGS, run_cli

BASES = {p.name: yaml.safe_load(p.read_text()) for p in sorted(CONFIGS.glob("*.yaml"))}
TEXTS = {p.name: p.read_text() for p in sorted(CONFIGS.glob("*.yaml"))}
SECTIONS = list(ExperimentConfig.model_fields)
# Problems about the file as a whole (no YAML path to name).
FILE_LEVEL = ("no such file", "is a folder", "cannot be read", "malformed YAML", "expected a mapping")
HUGE = "<huge>"  # written as a 5,000-digit integer: past Python's int-to-string limit
FUZZ = settings(
    derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            out.extend(_paths(child, (*prefix, key)))
    return out


ALL_PATHS = sorted({p for raw in BASES.values() for p in _paths(raw)}, key=str)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**31, max_value=2**70),
    st.sampled_from([-1, 0, 1, 10**30, -(10**30), HUGE]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-320, 1e308, float("inf"), float("-inf"), float("nan")]),
    st.text(max_size=12),
    st.sampled_from(
        ["lstm", "smote", "none", "max_f1", "", " ", "null", "~", "1e3", "0x1F", "ⅷ", "🙂", "e\u0301", "\x00"]
    ),
    st.binary(max_size=6),
    st.dates(),
    st.just(datetime.datetime(2024, 1, 1, 12, 0)),
)
keys = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)


def _get(node: Any, path: tuple) -> Any:
    for key in path:
        node = node[key]
    return node


@st.composite
def mutated(draw) -> dict | Any:
    """One of the shipped configs with one to four mutations applied to its raw mapping."""
    raw = copy.deepcopy(BASES[draw(st.sampled_from(sorted(BASES)))])
    for _ in range(draw(st.integers(1, 4))):
        if not isinstance(raw, dict):
            break
        paths = [p for p in _paths(raw) if isinstance(_get(raw, p[:-1]), dict)]
        action = draw(st.sampled_from(["set", "delete", "add", "rename", "component", "section", "whole"]))
        path = draw(st.sampled_from(paths or [("name",)]))
        parent = _get(raw, path[:-1]) if path[:-1] else raw
        if action == "set":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            parent.pop(path[-1], None)
        elif action == "add":
            parent[draw(keys)] = draw(values)
        elif action == "rename":
            parent[draw(st.sampled_from(["unit", "epoch", "Name", "trian", "名前", "k-neighbors"]))] = (
                parent.pop(path[-1], None)
            )
        elif action == "component":
            section = draw(st.sampled_from(["data", "balance", "model"]))
            name = draw(
                st.sampled_from(["smot", "lstm", "smote", "none", "gru", "logistic_regression", "", "🙂"])
            )
            raw[section] = (
                {**(raw.get(section) or {}), "name": name} if isinstance(raw.get(section), dict) else name
            )
        elif action == "section":
            raw[draw(st.sampled_from(SECTIONS))] = draw(scalars | st.lists(scalars, max_size=2))
        else:
            raw = draw(scalars | st.lists(scalars, max_size=3))
    return raw


def _located(problem: str, source: str, raw: Any) -> bool:
    """True when a problem names a YAML path of this config, or is about the whole file."""
    if source == "--set" or problem.startswith(FILE_LEVEL):
        return True
    top = {str(k) for k in raw} if isinstance(raw, dict) else set()
    return problem.startswith("(top level):") or any(
        problem.startswith(f"{key}:") or problem.startswith(f"{key}.") for key in [*SECTIONS, *top]
    )


def check(path: Path, overrides: list[str] | None = None, raw: Any = None) -> ExperimentConfig | None:
    """Load one config: it validates (and round-trips), or it fails as a ConfigError naming where."""
    try:
        cfg = load_config(path, overrides or [])
    except ConfigError as exc:
        assert exc.problems, "a ConfigError with no problem in it"
        assert exc.source in (str(path), "--set")
        for problem in exc.problems:
            assert problem and _located(problem, exc.source, raw), problem
            assert "Traceback" not in problem and len(problem) < 2000
        return None
    again = path.with_name("roundtrip.yaml")
    again.write_text(to_yaml(cfg), encoding="utf-8")
    assert load_config(again) == cfg, "a validated config does not survive to_yaml"
    return cfg


def dump(raw: Any) -> str:
    """YAML text of a generated value; the HUGE marker becomes a 5,000-digit integer."""
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    return text.replace(f"'{HUGE}'", "9" * 5000)


def _write(folder: str, text: str) -> Path:
    path = Path(folder) / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@settings(FUZZ, max_examples=160)
@given(raw=mutated())
def test_mutated_configs_validate_or_name_the_yaml_path(raw: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check(_write(folder, dump(raw)), raw=raw)


@settings(FUZZ, max_examples=100)
@given(
    base=st.sampled_from(sorted(TEXTS)),
    cut=st.integers(0, 10_000),
    length=st.integers(0, 40),
    insert=st.text(max_size=12)
    | st.sampled_from(
        ["\t", ":", "- ", "{", "]", "&a", "*a", "!!python/name:os.system", "%", "\x85", "\ufeff", "9" * 5000]
    ),
)
def test_text_edits_never_escape_as_anything_but_a_config_error(
    base: str, cut: int, length: int, insert: str
) -> None:
    text = TEXTS[base]
    cut %= len(text) + 1
    edited = text[:cut] + insert + text[cut + length :]
    with tempfile.TemporaryDirectory() as folder:
        try:
            raw = yaml.safe_load(edited)
        except Exception:  # noqa: BLE001 - only used to name the top-level keys
            raw = None
        check(_write(folder, edited), raw=raw)


override_keys = st.sampled_from([".".join(map(str, p)) for p in ALL_PATHS]) | st.sampled_from(
    ["model.unit", "seed.x", "train..epochs", "", "x", "名前", "data.name", "evaluate.threshold.min_recall"]
)
override_values = st.one_of(
    values.map(lambda v: dump(v).strip().removesuffix("...").strip().replace("\n", " ")),
    st.text(max_size=12),
    st.sampled_from(["{name: gru}", "[1, 2", "9" * 5000, "&a [*a]", "{min_recall: 5}", "1.0e+400"]),
)


@settings(FUZZ, max_examples=100)
@given(
    base=st.sampled_from(sorted(TEXTS)),
    sets=st.lists(st.tuples(override_keys, override_values, st.booleans()), min_size=1, max_size=3),
)
def test_set_overrides_validate_or_name_the_key(base: str, sets: list[tuple[str, str, bool]]) -> None:
    overrides = [f"{k}={v}" if eq else f"{k}{v}" for k, v, eq in sets]
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, TEXTS[base])
        named = {**BASES[base], **{k.split(".")[0]: None for k, _, _ in sets}}  # keys --set adds
        cfg = check(path, overrides, raw=named)
        if cfg is not None:
            assert cfg.name  # validated with the overrides applied


@settings(FUZZ, max_examples=60)
@given(value=scalars)
def test_any_threshold_value(value: Any) -> None:
    raw = {"evaluate": {"threshold": value}}
    with tempfile.TemporaryDirectory() as folder:
        cfg = check(_write(folder, dump(raw)), raw=raw)
        if cfg is not None:
            assert isinstance(cfg.evaluate.threshold, float | str) or hasattr(
                cfg.evaluate.threshold, "model_dump"
            )


# Shapes the generators above reach rarely, checked every time.
ODD_FILES = {
    "huge_int": "seed: " + "9" * 5000,
    "deep_nesting": "model: " + "[" * 5000 + "]" * 5000,
    "recursive_alias": "model: &a {name: lstm, units: *a}",
    "billion_laughs": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(7))
    + "model: {name: lstm, units: *h}",
    "non_string_keys": "{1: 2, null: 3, true: 4, 2.5: x, [1, 2]: y}",
    "set_as_key": "? [a, b]\n: 1",
    "python_tag": "name: !!python/object/apply:os.system [echo hi]",
    "binary": "name: !!binary aGk=",
    "inf_weights": "balance: {name: class_weight, weights: {0: .inf, 1: .nan}}",
    "nan_learning_rate": "train: {learning_rate: .nan}",
    "infinite_C": "model: {name: logistic_regression, C: .inf}",
    "threshold_inner_error": "evaluate: {threshold: {min_recall: 5}}",
    "threshold_huge": "evaluate: {threshold: " + "9" * 400 + "}",
    "empty": "",
    "only_comment": "# nothing\n",
    "scalar": "42",
    "bom": "\ufeffname: x",
    "control_char": "name: \x07",
    "tabs": "model:\n\tname: lstm",
    "duplicate_keys": "seed: 1\nseed: 2",
    "nul_name": 'name: "a\\0b"',
}


@pytest.mark.parametrize("name", sorted(ODD_FILES))
def test_odd_files(name: str, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(ODD_FILES[name], encoding="utf-8")
    try:
        raw = yaml.safe_load(ODD_FILES[name])
    except Exception:  # noqa: BLE001 - only used to name the top-level keys
        raw = None
    check(path, raw=raw)


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(ODD_FILES["duplicate_keys"])
    with pytest.raises(ConfigError, match="line 2.*'seed' appears twice"):
        load_config(path)
    path.write_text("base: &b {units: [8], dropout: 0.1}\nmodel: {<<: *b, name: lstm, units: [4]}\n")
    with pytest.raises(ConfigError, match="base: unknown key"):  # merge keys still work: only 'base' is wrong
        load_config(path)


def test_non_finite_numbers_are_refused(tmp_path: Path) -> None:
    for name in ("inf_weights", "nan_learning_rate", "infinite_C"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(ODD_FILES[name])
        with pytest.raises(ConfigError, match="finite"):
            load_config(path)


@pytest.mark.parametrize(
    "text, overrides, expected",
    [
        ("- a\n- b\n", [], "expected a mapping"),
        ("seed: " + "9" * 5000, [], "too many digits"),
        ("model: " + "[" * 3000, [], "malformed YAML"),
        ("{1: 2}", [], "(top level): key 1 is not a name"),
        ("name: x", ["seed=" + "9" * 5000], "--set: seed: value"),
        ("name: x", ["model=&a [*a]"], "model:"),
    ],
    ids=["list", "huge_int", "deep", "int_key", "set_huge", "set_recursive"],
)
def test_cli_validate_exits_2_without_traceback(
    text: str, overrides: list[str], expected: str, tmp_path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = run_cli("validate", str(path), *[a for o in overrides for a in ("--set", o)], timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr.replace("\n", "")
    assert re.search(r"^error: ", result.stderr)

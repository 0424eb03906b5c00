"""Config loading: every shipped config validates; mistakes name the file and the YAML key."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqexp.config.loading import load_config, validate_config
from seqexp.config.yaml_io import to_yaml
from seqexp.errors import ConfigError
from tests.conftest import CONFIGS, run_cli


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path) -> None:
    cfg = load_config(path)
    assert cfg.name


def test_resolved_config_round_trips(tmp_path: Path) -> None:
    cfg = load_config(CONFIGS / "lstm_smote.yaml", ["train.epochs=3"])
    again = tmp_path / "resolved.yaml"
    again.write_text(to_yaml(cfg))
    assert load_config(again) == cfg


def problems(text: str, write_config, overrides: list[str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text), overrides or [])
    return info.value.problems


def test_unknown_key_suggests_the_right_one(write_config) -> None:
    found = problems("model: {name: lstm, unit: [8]}", write_config)
    assert found == ["model.unit: unknown key; did you mean 'units'?"]


def test_unknown_component_lists_the_known_ones(write_config) -> None:
    found = problems("balance: {name: smot}", write_config)
    assert found == [
        "balance.name: 'smot' is not one of none, class_weight, random_under, random_over, smote, "
        "adasyn, borderline_smote, smote_tomek, smote_enn"
    ]


def test_several_problems_are_reported_together(write_config) -> None:
    found = problems("seed: -1\ntrain: {epochs: 0, batch_size: many}\nsplit: {train: 0.5}", write_config)
    assert any(p.startswith("seed:") for p in found)
    assert any(p.startswith("train.epochs:") for p in found)
    assert any(p.startswith("train.batch_size:") for p in found)
    assert any(p.startswith("split:") and "sum to 1" in p for p in found)


def test_threshold_rules(write_config) -> None:
    assert load_config(write_config("evaluate: {threshold: 0.3}")).evaluate.threshold == 0.3
    assert load_config(write_config("evaluate: {threshold: max_mcc}")).evaluate.threshold == "max_mcc"
    rule = load_config(write_config("evaluate: {threshold: {min_recall: 0.6}}")).evaluate.threshold
    assert rule.min_recall == 0.6
    found = problems("evaluate: {threshold: best}", write_config)
    assert found[0].startswith("evaluate.threshold: 'best' is not a threshold rule")


def test_malformed_yaml_names_the_line(write_config) -> None:
    found = problems("name: x\nmodel: {name: lstm\n", write_config)
    assert found[0].startswith("malformed YAML: line 3")


def test_non_mapping_yaml_is_refused(write_config) -> None:
    assert "expected a mapping" in problems("- a\n- b\n", write_config)[0]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


def test_set_overrides_scalars_lists_and_whole_sections() -> None:
    cfg = load_config(CONFIGS / "lstm_smote.yaml", ["train.epochs=3", "model.units=[32, 16]"])
    assert cfg.train.epochs == 3 and cfg.model.units == [32, 16]
    # A mapping replaces the whole section: the new component starts from its own defaults.
    cfg = load_config(CONFIGS / "lstm_smote.yaml", ["model={name: logistic_regression}"])
    assert cfg.model.name == "logistic_regression" and cfg.model.C == 1.0
    # Nested sections that the YAML does not mention are created.
    cfg = load_config(CONFIGS / "tiny.yaml", ["train.early_stopping.patience=1"])
    assert cfg.train.early_stopping.patience == 1


def test_set_unknown_key_is_an_error_marked_as_from_set() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(CONFIGS / "tiny.yaml", ["model.unit=3"])
    assert info.value.problems == ["model.unit: unknown key; did you mean 'units'? (from --set)"]


def test_set_syntax_errors() -> None:
    for bad in ["train.epochs", "train..epochs=3", "seed.x=1"]:
        with pytest.raises(ConfigError):
            load_config(CONFIGS / "tiny.yaml", [bad])


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    from pydantic import BaseModel

    from seqexp.config.section import ConfigPath

    class Holder(BaseModel):
        path: ConfigPath

    held = Holder.model_validate({"path": "data/x.csv"}, context={"config_dir": str(tmp_path)})
    assert Path(held.path) == tmp_path / "data" / "x.csv"


def test_defaults_give_a_complete_experiment() -> None:
    cfg = validate_config({})
    assert (cfg.data.name, cfg.balance.name, cfg.model.name) == ("synthetic_transactions", "none", "lstm")


def test_cli_config_error_is_one_message_and_exit_2(write_config) -> None:
    path = write_config("model: {name: lstm, unit: [8]}")
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}: model.unit: unknown key; did you mean 'units'?" in result.stderr.replace("\n", "")


def test_cli_train_refuses_a_bad_config_before_creating_a_run(write_config, tmp_path: Path) -> None:
    result = run_cli(
        "train", str(write_config("balance: {name: smot}")), "--runs-dir", str(tmp_path / "runs")
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()

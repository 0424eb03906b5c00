"""The config mistakes new users made, each answered by one line naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqexp.config.loading import load_config
from seqexp.errors import ConfigError

EVENTS = """
name: ev
data:
  name: events
  path: events.csv
  id: customer_id
  time: when
  numeric: [amount]
  labels: {cutoff: 2015-01-01, horizon_days: 60, where: "amount > 50"}
model: {name: logistic_regression}
"""


@pytest.fixture
def events_config(tmp_path: Path) -> Path:
    (tmp_path / "events.csv").write_text("customer_id,when,amount\n1,2014-01-01,3\n")
    path = tmp_path / "ev.yaml"
    path.write_text(EVENTS)
    return path


def problems(path: Path, overrides: list[str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides)
    return caught.value.problems


def test_a_wrong_key_inside_labels_names_it_without_validator_names(events_config: Path) -> None:
    """``labels`` is a file or a window; only the kind the keys point at is reported."""
    (line,) = problems(events_config, ["data.labels.wher=x"])
    assert line.startswith("data.labels.wher: unknown key; did you mean 'where'?")
    assert "function-after" not in line and "WindowLabels" not in line


def test_a_misspelt_key_set_to_a_non_yaml_value_is_an_unknown_key(events_config: Path) -> None:
    (line,) = problems(events_config, ["data.time_fromat=%d-%b-%y"])  # '%' starts a YAML directive
    assert line.startswith("data.time_fromat: unknown key; did you mean 'time_format'?")


def test_an_impossible_date_names_its_key_once(events_config: Path) -> None:
    (line,) = problems(events_config, ["data.labels.cutoff=1997-13-01"])
    assert line.startswith("data.labels.cutoff: ") and "1997-13-01" in line
    bad = events_config.with_name("bad.yaml")
    bad.write_text(EVENTS.replace("2015-01-01", "1997-13-01"))
    (line,) = problems(bad, [])
    assert line.startswith("data.labels.cutoff: ") and "month" in line


def test_a_text_value_for_a_list_names_the_key(events_config: Path) -> None:
    (line,) = problems(events_config, ["data.numeric=[amount"])  # not YAML: taken as the text
    assert line.startswith("data.numeric: ")

"""The experiment config: its schema (``sections``), YAML text (``yaml_io``), validation with messages
that name the YAML key (``validation``, ``messages``) and loading (``loading``).

Modules inside the package import each other directly; everything else imports from here.
"""

from seqexp.config.loading import load_config, validate_config
from seqexp.config.section import ConfigPath, Section
from seqexp.config.sections import (
    COMPONENT_SECTIONS,
    BalanceConfig,
    DataConfig,
    EarlyStoppingConfig,
    EvaluateConfig,
    ExperimentConfig,
    FocalConfig,
    MinRecall,
    ModelConfig,
    ReduceLRConfig,
    SplitConfig,
    TopKPercent,
    TrainConfig,
    check_risk_bands,
)
from seqexp.config.yaml_io import apply_overrides, parse_override, read_yaml, safe_load, to_yaml

__all__ = [
    "COMPONENT_SECTIONS", "BalanceConfig", "ConfigPath", "DataConfig", "EarlyStoppingConfig",
    "EvaluateConfig", "ExperimentConfig", "FocalConfig", "MinRecall", "ModelConfig", "ReduceLRConfig",
    "Section", "SplitConfig", "TopKPercent", "TrainConfig", "apply_overrides", "check_risk_bands",
    "load_config", "parse_override", "read_yaml", "safe_load", "to_yaml", "validate_config",
]  # fmt: skip

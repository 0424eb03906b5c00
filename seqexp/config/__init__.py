"""The experiment config: its schema (sections), YAML loading, ``--set`` overrides and messages."""

from seqexp.config.sections import *  # noqa: F403

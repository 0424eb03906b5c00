"""``seqexp tune``: keras-tuner searches declared in the config's ``tune`` section.

``config`` (the schema, no heavy imports), ``space`` (dotted config paths <-> keras-tuner
hyperparameters, trial configs), ``search`` (the tuner, resume, distributed roles), ``report``
(trials.csv, plots, best config, top-k runs).
"""

"""The experiment config: its schema (``sections``, on the ``section`` base), YAML text (``yaml_io``),
validation with messages that name the YAML key (``validation``, ``messages``) and loading
(``loading``). Import from the module that does the job; this package file imports nothing, so
component modules can import the light ``section`` base without pulling in the whole schema.
"""

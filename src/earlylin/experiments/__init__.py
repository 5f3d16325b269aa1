"""The experiments, each a configuration of the engine or of Section 3's closed forms: the
jobs a config section defines (plain dicts, the rules' params), the checks across its keys,
the figure titles, and the tidy tables of a run."""

"""The core every layer builds on; it imports no other part of the package: the config's
schema check (``config``), what a rule script does first (``runtime``), the machine
(``host``, ``devices``), seeded draws (``seeds``), tidy tables (``tables``), the compared
quantities (``metrics``, ``information``), power-law fits (``fits``), activations and their
Gaussian moments (``activations``), losses and heavy-ball momentum (``losses``)."""

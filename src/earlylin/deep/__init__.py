"""Section 4 and Appendix A of the paper: deep FC and convolutional networks on real images
and their linear model (Figures 3 and 4).

Modules: ``sources`` (the image sources and their shapes; light), ``jobs`` (one job's
settings from the config; light), ``images`` (loaders, two-class draws, pooling,
normalisation), ``networks`` (FC and CNN in the NTK parameterisation, f_0 = 0, the
empirical NTK), ``ntk_recursion`` (the infinite-width recursion and the linear model's
coefficients, Section 4.1), ``sgd_state`` (settings, batch order, run state), ``training``
(SGD of a network and its linear model on the same minibatches), ``checkpoints``,
``tables`` (the tidy tables of a run), ``cost`` (what a job costs on this machine).
Importing this package imports nothing heavy: ``sources`` and ``jobs`` are read while the
Snakefile parses.
"""

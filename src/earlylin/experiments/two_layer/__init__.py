"""Section 3 of the paper: two-layer networks trained by gradient descent and their linear
models (psi1, psi2, psi), the regimes of Theorems 3.2, 3.5 and D.1, and the empirical NTK
blocks of Figure 5.

These are not SGD runs of the engine: the network trains by full-batch gradient descent with
fused gradients (eq. 4) and its linear model is trained in closed form for all logged steps
at once (Claim C.1).

Modules: ``networks`` (the network and its fused gradients), ``gradient_descent`` (GD with
logged steps), ``surrogates`` (the feature maps and closed-form GD, Claim C.1), ``regimes``
(which layers train and the linear model each theorem names), ``kernels`` (NTK blocks, their
distance to the linear kernels), ``experiments`` (the steps the workflow's scripts call),
``jobs`` (the jobs and titles of Figures 1, 2, 5 and the regime grid). Importing this package
imports nothing heavy: ``regimes`` and ``jobs`` are read while the Snakefile parses.
"""

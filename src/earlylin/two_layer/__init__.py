"""Section 3 of the paper: two-layer networks trained by gradient descent and their linear
models (psi1, psi2, psi), the regimes of Theorems 3.2, 3.5 and D.1, and the empirical NTK
blocks of Figure 5.

Modules: ``networks`` (the network and its fused gradients), ``training`` (GD with logged
steps), ``surrogates`` (the feature maps and closed-form GD, Claim C.1), ``regimes`` (which
layers train and the linear model each theorem names), ``kernels`` (NTK blocks, their
distance to the linear kernels), ``experiments`` (the steps the workflow's scripts call).
Importing this package imports nothing heavy: ``regimes`` is read while the Snakefile parses.
"""

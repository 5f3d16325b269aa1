"""The theorems' time and width scales (beyond the paper's figures): the agreement horizon
against d log d / eta (Theorem 3.2 / D.1, Corollary 3.3) and the finite-width floor.

Modules: ``sizes`` (n = m = C d^(1+alpha), the d log d / eta window; light, read while the
Snakefile parses), ``convergence`` (the linear model's optimum and its convergence step
T_lin, from the closed form), ``runs`` (one horizon or width run: network vs f_lin),
``slopes`` (the per-seed log-log fits of the horizons and widths, and their spread).
"""

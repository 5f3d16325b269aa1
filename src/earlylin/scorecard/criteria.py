"""The scorecard's claim groups, verdicts and criteria: each quantitative claim of the paper
(and of the workflow's own figures beyond it) with an explicit criterion. Light (no numpy):
the config schema's ``scorecard.skip`` and the Snakefile read ``GROUPS`` from here.

Verdicts: ``holds`` (the criterion is met), ``does not hold`` (it is not), ``not run``
(the claim's tables are not part of the run: its group is in ``scorecard.skip``, or the
table holds no row the criterion can use). Measured values are means over seeds with the
sample sd ("0.31 ± 0.02 over 3 seeds"), or the value alone with one seed. Where a
criterion reads "every seed", each seed must meet it on its own.

The criteria (``CRITERIA``), one per claim:

* Figure 1a: |test loss of the network - test loss of f_lin| <= 1% of f_lin's test loss at
  every logged step up to 1,000, every seed (the paper: "indistinguishable in the first
  1,000 steps").
* Figure 1c: the network-vs-f_lin output MSE at the logged step nearest 10 (mean over
  seeds) decreases strictly from each d of the sweep to the next larger one.
* Figure 2: the naive model's output MSE to the network exceeds f_lin's (ratio > 1) at
  every logged step from 1 to 1,000, every seed.
* Regime grid (Theorems 3.2, 3.5, D.1): for each regime, every (activation, seed) network
  stays at or below relative MSE ``regimes.threshold`` at every logged step of its run.
* Figures 3/4c (and the offline Figure 3): for each (data set, architecture), the relative
  MSE E(f - f_lin)^2 / E f^2 <= 5% at every logged step from 1 to 1,000, every seed. (On
  MNIST the paper's FC 4x512 stays within ~1% up to 1,000 steps; 5% leaves room for the
  narrower CNNs and for the step-1 finite-width fluctuation.)
* fig_data (beyond the paper), per data set, loss and momentum: the agreement horizon with the
  linear model as for fig_models; the performance correlation mu_Y(F; L) of Nakkiran et al.
  >= 0.9 I(F; Y) at every logged step up to 1,000 where I(F; Y) >= 0.1 bit, every seed. Per
  data set: the networks trained on the Gaussian clone and on the real images part (relative
  MSE > 5%) no earlier than the real-trained network leaves its linear model.
* fig_classes (beyond the paper), per data set, network and loss: the agreement horizon of the
  network of k outputs with its k-head linear model (relative MSE over all outputs) as for
  fig_models, and mu >= 0.9 I(F; Y) as for fig_data, with k labels; per data set and network:
  the NTK's rms cross-output block at most 0.1 of its rms diagonal block, every seed.
* Figure 5: the log-log slope of ||Theta1(W(0)) - Theta_lin1|| against d (mean over seeds of
  the per-seed fits) within 0.1 of the paper's -1.263 (spectral) and -0.718 (Frobenius).
* Horizon, Corollary 3.3: T_agree >= T_lin for every (activation, eta, d, seed, split,
  threshold) whose relative discrepancy starts (step 1) at or below the threshold; a
  horizon not reached counts as beyond the run's window (which ends after T_lin).
* Horizon, Theorem 3.2 / D.1: on the training points (the measure of eq. 7), the slope of
  log(eta T_agree) on log(d log d) (mean over seeds) is >= 0.9 for every activation, eta
  and threshold with a fit: agreement lasts at least ~ d log d / eta.
* Width: at the largest d, the slope of log(relative discrepancy at the first logged step)
  on log m over m >= d^(1+alpha) is within 0.2 of -1 (NTK fluctuation ~ 1/sqrt(m), so
  ~ 1/m in mean square).
* Width: at the configured width nearest 256 (Figure 1's), the relative discrepancy at the
  first logged step (mean over seeds) increases strictly with d.
"""

from __future__ import annotations

HOLDS, FAILS, NOT_RUN = "holds", "does not hold", "not run"
COLUMNS = ["figure", "claim", "paper", "criterion", "measured", "verdict", "scale", "note"]
# The claim groups, in the scorecard's order; ``scorecard.skip`` names some of them.
GROUPS = (
    "fig1",
    "fig2",
    "regimes",
    "deep",
    "any_network",
    "any_data",
    "any_classes",
    "fig5",
    "fig5_models",
    "horizon",
    "width",
)

FIG1_STEP_LIMIT = 1000
FIG1_LOSS_TOLERANCE = 0.01
DEEP_STEP_LIMIT = 1000
DEEP_MAX_RELATIVE = 0.05
# fig_models: the simple kernel's fit to the empirical NTK, and the agreement horizons
MODELS_MAX_RESIDUAL = 0.2
MODELS_MEANINGLESS_RESIDUAL = 0.5  # above it, the figure's title says the linear model describes little
# fig_data: mu_Y(F; L) >= this share of I(F; Y) wherever the network carries at least
# DATA_MIN_INFORMATION bits on the label (below it the ratio is noise)
DATA_MU_SHARE = 0.9
DATA_MIN_INFORMATION = 0.1
# fig_classes: the rms cross-output block of the NTK of k outputs at most this share of the rms
# diagonal block (the k-head linear model takes the NTK as Theta (x) I_k)
CLASSES_MAX_CROSS = 0.1
FIG5_PAPER = {"spectral": -1.263, "frobenius": -0.718}
FIG5_TOLERANCE = 0.1
HORIZON_MIN_SLOPE = 0.9
WIDTH_SLOPE, WIDTH_SLOPE_TOLERANCE = -1.0, 0.2
WIDTH_REFERENCE = 256

CRITERIA = {
    "fig1a": f"|L_test(network) − L_test(f_lin)| ≤ {FIG1_LOSS_TOLERANCE:.0%} of L_test(f_lin) at every logged "
    f"step ≤ {FIG1_STEP_LIMIT:,}, every seed",
    "fig1c": "output MSE at the logged step nearest 10 (mean over seeds) decreases strictly with each larger d",
    "fig2": f"naive / f_lin output MSE to the network > 1 at every logged step 1..{FIG1_STEP_LIMIT:,}, every seed",
    "regimes": "relative MSE ≤ regimes.threshold at every logged step of the run, every activation and seed",
    "deep": f"relative MSE ≤ {DEEP_MAX_RELATIVE:.0%} at every logged step 1..{DEEP_STEP_LIMIT:,}, every seed",
    "models_fit": f"relative Frobenius residual of constant + b x·x'/d (+ norm terms) fitted to the off-diagonal "
    f"empirical NTK ≤ {MODELS_MAX_RESIDUAL:g}, every seed",
    "models_horizon": f"agreement horizon (first logged step with relative MSE > {DEEP_MAX_RELATIVE:.0%}) beyond step "
    f"{DEEP_STEP_LIMIT:,} (or the run's last), every seed",
    "data_mu": f"μ_Y(F; L) ≥ {DATA_MU_SHARE:g} I(F; Y) at every logged step 1..{DEEP_STEP_LIMIT:,} where "
    f"I(F; Y) ≥ {DATA_MIN_INFORMATION:g} bit, every seed",
    "data_clone": f"the clone- and real-trained networks stay within {DEEP_MAX_RELATIVE:.0%} relative MSE at least as "
    f"long as the real-trained network stays within {DEEP_MAX_RELATIVE:.0%} of its linear model (steps 1..the run's "
    f"last, ≤ {DEEP_STEP_LIMIT:,}), every seed",
    "classes_cross": f"rms cross-output block of the NTK at initialisation ≤ {CLASSES_MAX_CROSS:g} of the rms diagonal "
    "block (sqrt(mean_{c≠c'} ‖Θ_cc'‖²_F / mean_c ‖Θ_cc‖²_F)), every seed",
    "fig5": f"|slope − paper| ≤ {FIG5_TOLERANCE} (slope: mean over seeds of the per-seed least-squares fits)",
    "fig5_models": "least-squares slope of log ‖offdiag(Θ − K_fit)‖₂ (mean over seeds) on log d below 0 by more than "
    "2 standard errors of the slope (K_fit: the simple kernel fitted to the network's own NTK)",
    "corollary": "T_agree ≥ T_lin for every (η, d, seed, split, threshold) that starts at or below the threshold "
    "(unreached: beyond the window)",
    "horizon_slope": f"slope of log(η T_agree) on log(d ln d), training points, mean over seeds ≥ {HORIZON_MIN_SLOPE} "
    f"for every η and threshold with a fit",
    "width_slope": f"at the largest d: slope of log(relative MSE at the first step) on log m over m ≥ d^(1+α) within "
    f"{WIDTH_SLOPE_TOLERANCE} of {WIDTH_SLOPE:g}",
    "width_d": f"at the width nearest {WIDTH_REFERENCE}: relative MSE at the first step (mean over seeds) "
    f"increases strictly with d",
}

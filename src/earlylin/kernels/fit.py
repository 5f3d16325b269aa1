"""Section 4.1's simple kernel fitted to a network's empirical NTK.

For inputs with ||x||^2/d close to 1 and x.x'/d close to 0, the NTK's off-diagonal entries are
close to

    K(x, x') = constant + linear x.x'/d + norm (e(x) + e(x')),   e(x) = ||x||^2/d - 1,

(``simple_kernel.KernelCoefficients``; the norm term only when the inputs' norms
differ) and the linear model is the one with that kernel. Here the three coefficients are
measured instead of derived: a least-squares fit of the off-diagonal entries (i < j) of the
empirical NTK at initialisation, one fit per initialisation, on the same inputs. The
coefficients are the mean over initialisations and their Monte-Carlo error the standard error
of that mean. How well the simple kernel fits is reported on the mean kernel, as in
Proposition 4.1 and Figure 5: the off-diagonal residual relative to the kernel's off-diagonal
part in Frobenius and spectral norm, and the diagonal gap, the mean of diag(Theta) - diag(K)
(the c I of eq. 10's kernel, which the linear model leaves out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .simple_kernel import KernelCoefficients, overlap_features, simple_kernel

# A fitted coefficient within this many standard errors of zero is zero (an odd activation's
# constant, say): a tiny constant would otherwise give the linear model a feature
# sqrt(constant) + norm / sqrt(constant) e(x) of rounding noise.
_SIGNIFICANT = 3.0
# A fitted constant within this many standard errors of 0 is reported as consistent with 0.
_CONSISTENT = 2.0


@dataclass(frozen=True)
class KernelFit:
    """The fitted simple kernel of one network and its quality."""

    constant: float
    linear: float
    norm: float
    constant_stderr: float
    linear_stderr: float
    norm_stderr: float
    residual_frobenius: float  # ||offdiag(Theta - K)||_F / ||offdiag(Theta)||_F, on the mean kernel
    residual_spectral: float  # ||offdiag(Theta - K)||_2 / ||offdiag(Theta)||_2
    diagonal_gap: float  # mean of diag(Theta) - diag(K)
    mean_abs_overlap: float  # mean |x.x'/d| over the pairs: how far the inputs are from Section 4.1's premise
    n_points: int
    n_initialisations: int
    with_norm_term: bool

    def coefficients(self) -> KernelCoefficients:
        """The coefficients of the linear model, those indistinguishable from 0 set to 0."""
        constant = self.constant if abs(self.constant) > _SIGNIFICANT * self.constant_stderr else 0.0
        norm = self.norm if abs(self.norm) > _SIGNIFICANT * self.norm_stderr else 0.0
        return KernelCoefficients(constant=constant, linear=self.linear, norm=norm)

    def linear_model(self) -> tuple[KernelCoefficients, list[str]]:
        """The coefficients of the linear model the workflow trains and what they change in the
        fit. On normalised inputs (no norm term) the least-squares line itself: its constant,
        significant or not (zeroing a constant of a few standard errors would give the linear
        model a kernel visibly below the network's, as for a ReLU network whose constant is
        0.11 ± 0.04). With a norm term, a constant within ``_SIGNIFICANT`` standard errors of 0
        is 0 (its feature map would divide by it). A negative constant (a fit over overlaps
        far from 0 whose line crosses below 0 at x.x'/d = 0) has no feature map and is set to 0
        with its norm term, and the note says so (the figure's title repeats it). A linear
        coefficient that is not positive defines no linear model: ValueError."""
        if self.linear <= _SIGNIFICANT * self.linear_stderr:
            raise ValueError(f"the linear coefficient {self.linear:.3g} ± {self.linear_stderr:.2g} is not positive")
        if self.with_norm_term:
            coefficients = self.coefficients()
        else:
            coefficients = KernelCoefficients(constant=self.constant, linear=self.linear, norm=0.0)
        notes = []
        if coefficients.constant < 0 or (coefficients.constant == 0.0 and coefficients.norm != 0.0):
            consistent = abs(self.constant) <= _CONSISTENT * self.constant_stderr
            notes.append(
                f"fitted constant {self.constant:.3g} ± {self.constant_stderr:.2g}"
                + (
                    f", consistent with 0 (within {_CONSISTENT:g} standard errors)"
                    if consistent
                    else " < 0 (no feature map)"
                )
                + ": the linear model uses constant 0"
                + (f" and no norm term (fitted {self.norm:.3g})" if coefficients.norm != 0.0 else "")
            )
            coefficients = KernelCoefficients(constant=0.0, linear=coefficients.linear, norm=0.0)
        return coefficients, notes

    def problems(self) -> list[str]:
        """Why the fitted kernel defines no linear model, or a meaningless one ([] if fine)."""
        found = []
        if self.linear <= _SIGNIFICANT * self.linear_stderr:
            found.append(f"the linear coefficient {self.linear:.3g} ± {self.linear_stderr:.2g} is not positive")
        coefficients = self.coefficients()
        if coefficients.constant < 0:
            found.append(f"the constant {self.constant:.3g} ± {self.constant_stderr:.2g} is negative")
        if coefficients.constant == 0.0 and coefficients.norm != 0.0:
            found.append(f"a norm term {self.norm:.3g} without a constant term has no feature map")
        return found


def _off_diagonal(matrix: np.ndarray) -> np.ndarray:
    out = np.array(matrix, dtype=np.float64, copy=True)
    np.fill_diagonal(out, 0.0)
    return out


def fit_simple_kernel(X: np.ndarray, kernels: list[np.ndarray] | np.ndarray) -> KernelFit:
    """Fit the simple kernel to the empirical NTKs ``kernels`` (one (n, n) matrix per
    initialisation, all on the inputs ``X``); at least two initialisations for an error bar."""
    kernels = np.asarray(kernels, dtype=np.float64)
    if kernels.ndim != 3 or kernels.shape[1:] != (len(X), len(X)):
        raise ValueError(f"need kernels of shape (initialisations, {len(X)}, {len(X)}), got {kernels.shape}")
    if len(kernels) < 2:
        raise ValueError("need the NTK of at least 2 initialisations for the Monte-Carlo error of the fit")
    if len(X) < 4:
        raise ValueError(f"need at least 4 inputs to fit 3 coefficients on their pairs, got {len(X)}")
    design, overlap, with_norm = overlap_features(X)
    rows, cols = np.triu_indices(len(X), k=1)
    targets = kernels[:, rows, cols].T  # (pairs, initialisations)
    solution, *_ = np.linalg.lstsq(design, targets, rcond=None)
    if not with_norm:
        solution = np.vstack([solution, np.zeros(len(kernels))])
    mean = solution.mean(axis=1)
    stderr = solution.std(axis=1, ddof=1) / np.sqrt(len(kernels))
    coefficients = KernelCoefficients(constant=float(mean[0]), linear=float(mean[1]), norm=float(mean[2]))
    theta = kernels.mean(axis=0)
    fitted = simple_kernel(X, coefficients)
    residual = _off_diagonal(theta - fitted)
    off = _off_diagonal(theta)
    return KernelFit(
        constant=float(mean[0]),
        linear=float(mean[1]),
        norm=float(mean[2]),
        constant_stderr=float(stderr[0]),
        linear_stderr=float(stderr[1]),
        norm_stderr=float(stderr[2]),
        residual_frobenius=float(np.linalg.norm(residual) / np.linalg.norm(off)),
        residual_spectral=float(np.linalg.norm(residual, 2) / np.linalg.norm(off, 2)),
        diagonal_gap=float(np.mean(np.diag(theta) - np.diag(fitted))),
        mean_abs_overlap=float(np.mean(np.abs(overlap))),
        n_points=len(X),
        n_initialisations=len(kernels),
        with_norm_term=with_norm,
    )

"""The infinite-width NNGP/NTK recursion and the deep linear surrogate (Section 4.1).

Names
-----
For a pair of inputs (x, x') at layer l, ``cov1, cov2, nngp`` are the covariance triple
(Sigma^l(x, x), Sigma^l(x', x'), Sigma^l(x, x')), ``ntk`` is Theta^l(x, x') and
``dot_sigma`` is the derivative kernel Sigma-dot^l(x, x'). At layer 0 the triple is
(||x||^2/d, ||x'||^2/d, x.x'/d). The generic bivariate Gaussian expectations E[f(u) g(u')],
(u, u') ~ N(0, [[cov1, cov12], [cov12, cov2]]), name the off-diagonal entry ``cov12``.

Linear surrogate
----------------
The infinite-width NTK of the FC net (``networks.builtin.FullyConnectedNTK``) is
K(x, x') = h(cov1, cov2, nngp) of the layer-0 triple. Its off-diagonal entries are
Taylor-expanded around (1, 1, 0):

    h ~ constant + linear nngp + norm (cov1 - 1) + norm (cov2 - 1),

the fields of ``KernelCoefficients``: constant = h(1, 1, 0), linear = dh/dnngp
(the c of Section 4.1), norm = dh/dcov1 = dh/dcov2 (h is symmetric). h is computed by the NNGP/NTK
layer recursion (Jacot et al. 2018, Theorem 1; Lee et al. 2019, "Wide neural networks of
any depth evolve as linear models"; Arora et al. 2019, "On exact computation with an
infinitely wide neural net", whose no-bias form is the one used here): with
(u, u') ~ N(0, [[cov1, nngp], [nngp, cov2]]) at layer l,

    cov1^{l+1} = E[phi(u)^2],   cov2^{l+1} = E[phi(u')^2],
    nngp^{l+1} = Sigma^{l+1}(x, x') = E[phi(u) phi(u')],
    dot_sigma^{l+1} = Sigma-dot^{l+1}(x, x') = E[phi'(u) phi'(u')],
    ntk^{l+1} = Theta^{l+1}(x, x') = nngp^{l+1} + ntk^l dot_sigma^{l+1},   ntk^0 = nngp^0,

and the readout's NTK is ntk^L (L hidden layers). The bivariate Gaussian expectations are
nested 1-D kink-aware Gauss-Legendre quadratures. The derivatives of ntk^L in the layer-0
(cov1, cov2, nngp) are carried through the recursion in forward mode; the derivative of a
Gaussian expectation with respect to an entry of the covariance S is the Gaussian
integration-by-parts identity behind Price's theorem,

    dE[H(z)]/dS_ij = (1 - delta_ij / 2) E[H(z) ((S^-1 z)_i (S^-1 z)_j - (S^-1)_ij)],

which needs only H itself (phi or phi'), never phi'' (a Dirac delta for ReLU); for the
off-diagonal entry it equals Price's E[F'(u) G'(u')] whenever F, G are differentiable.

CNN: with circular padding and a flatten readout the first-order coefficients are those
of the FC net of the same depth and activation (see ``cnn_linear_coefficients``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..core.activations import Activation, as_activation, gaussian_nodes
from .simple_kernel import KernelCoefficients

Tensor = torch.Tensor
TorchFunction = Callable[[Tensor], Tensor]


# ---------------------------------------------------------------------------------------
# Gaussian expectations by nested kink-aware quadrature
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _BivariateRule:
    """Nodes of E[H(u, u')] for (u, u') ~ N(0, [[cov1, cov12], [cov12, cov2]]), written as
    u = sqrt(cov1) g1, u' = sqrt(cov2) (r g1 + s g2), r = cov12 / sqrt(cov1 cov2), s = sqrt(1 - r^2).

    g1 (N,) with weights w1 (N,) splits at the kinks of the first function; for each g1
    node the inner rule g2 (N, M), w2 (N, M) splits at the kinks of the second function,
    which move with g1 (rows are zero-padded to a common length).
    """

    cov1: float
    cov2: float
    corr: float
    g1: np.ndarray
    w1: np.ndarray
    g2: np.ndarray
    w2: np.ndarray

    @property
    def s(self) -> float:
        return math.sqrt(1.0 - self.corr * self.corr)

    def first(self) -> np.ndarray:
        return math.sqrt(self.cov1) * self.g1

    def second(self) -> np.ndarray:
        return math.sqrt(self.cov2) * (self.corr * self.g1[:, None] + self.s * self.g2)


def _inner_rules(corr: float, scale2: float, g1: np.ndarray, kinks2: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    s = math.sqrt(1.0 - corr * corr)
    if not kinks2:
        g2, w2 = gaussian_nodes()
        return np.broadcast_to(g2, (g1.size, g2.size)), np.broadcast_to(w2, (g1.size, w2.size))
    rows = [gaussian_nodes(tuple((k / scale2 - corr * x) / s for k in kinks2)) for x in g1]
    width = max(nodes.size for nodes, _ in rows)
    g2 = np.zeros((g1.size, width))
    w2 = np.zeros((g1.size, width))
    for i, (nodes, weights) in enumerate(rows):
        g2[i, : nodes.size] = nodes
        w2[i, : weights.size] = weights
    return g2, w2


def _bivariate_rule(
    cov1: float, cov2: float, cov12: float, kinks1: Sequence[float], kinks2: Sequence[float]
) -> _BivariateRule:
    if cov1 <= 0.0 or cov2 <= 0.0:
        raise ValueError(f"variances must be positive, got {cov1}, {cov2}")
    corr = cov12 / math.sqrt(cov1 * cov2)
    if not -1.0 < corr < 1.0:
        raise ValueError(f"covariance must be non-degenerate (|correlation| < 1), got correlation {corr}")
    g1, w1 = gaussian_nodes(tuple(k / math.sqrt(cov1) for k in kinks1))
    g2, w2 = _inner_rules(corr, math.sqrt(cov2), g1, tuple(kinks2))
    return _BivariateRule(cov1, cov2, corr, g1, w1, g2, w2)


def _evaluate(function: TorchFunction, points: np.ndarray) -> np.ndarray:
    return function(torch.from_numpy(np.array(points, dtype=np.float64))).double().numpy()


def _moment_and_gradient(F_values: np.ndarray, G_values: np.ndarray, rule: _BivariateRule) -> tuple[float, np.ndarray]:
    """E[F(u) G(u')] and its gradient in (cov1, cov2, cov12) by the integration-by-parts identity.

    With z = (u, u') = L g (L the Cholesky factor), S^-1 z = L^-T g = (y1, y2),
    y1 = (g1 - (r/s) g2) / sqrt(cov1), y2 = g2 / (s sqrt(cov2)), and
    dE/dcov12 = E[H (y1 y2 - S^-1_12)], dE/dcov1 = E[H (y1^2 - S^-1_11)] / 2, dE/dcov2 likewise.
    """
    cov1, cov2, r, s = rule.cov1, rule.cov2, rule.corr, rule.s
    g1, g2 = rule.g1, rule.g2
    weighted = rule.w2 * G_values
    inner = [np.sum(weighted * g2**k, axis=1) for k in range(3)]  # E_g2[G g2^k | g1], k = 0, 1, 2
    outer = rule.w1 * F_values
    t = r / s
    value = float(outer @ inner[0])
    e_y1y2 = float(outer @ (g1 * inner[1] - t * inner[2])) / (s * math.sqrt(cov1 * cov2))
    e_y1y1 = float(outer @ (g1 * g1 * inner[0] - 2.0 * t * g1 * inner[1] + t * t * inner[2])) / cov1
    e_y2y2 = float(outer @ inner[2]) / (s * s * cov2)
    precision_11 = 1.0 / (cov1 * s * s)
    precision_22 = 1.0 / (cov2 * s * s)
    precision_12 = -r / (s * s * math.sqrt(cov1 * cov2))
    gradient = np.array(
        [
            0.5 * (e_y1y1 - precision_11 * value),
            0.5 * (e_y2y2 - precision_22 * value),
            e_y1y2 - precision_12 * value,
        ]
    )
    return value, gradient


def bivariate_gaussian_expectation_and_gradient(
    f: TorchFunction,
    g: TorchFunction,
    cov1: float,
    cov2: float,
    cov12: float,
    kinks_f: Sequence[float] = (),
    kinks_g: Sequence[float] = (),
) -> tuple[float, np.ndarray]:
    """E[f(u) g(u')], (u, u') ~ N(0, [[cov1, cov12], [cov12, cov2]]), and its gradient in (cov1, cov2, cov12).

    Nested composite Gauss-Legendre (``earlylin.activations.gaussian_nodes``) with panels
    split where f or g (or their derivatives) jump, so piecewise-smooth integrands reach
    float64 accuracy. Requires |cov12| < sqrt(cov1 cov2).
    """
    rule = _bivariate_rule(cov1, cov2, cov12, kinks_f, kinks_g)
    return _moment_and_gradient(_evaluate(f, rule.first()), _evaluate(g, rule.second()), rule)


# ---------------------------------------------------------------------------------------
# The NNGP/NTK recursion in forward mode
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Dual:
    """A scalar with its gradient in the layer-0 (cov1, cov2, nngp) = (||x||^2/d, ||x'||^2/d, x.x'/d)."""

    value: float
    grad: np.ndarray

    def __add__(self, other: _Dual) -> _Dual:
        return _Dual(self.value + other.value, self.grad + other.grad)

    def __mul__(self, other: _Dual) -> _Dual:
        return _Dual(self.value * other.value, self.value * other.grad + other.value * self.grad)


def _seed_duals(cov1: float, cov2: float, nngp: float) -> tuple[_Dual, _Dual, _Dual]:
    unit = np.eye(3)
    return _Dual(cov1, unit[0]), _Dual(cov2, unit[1]), _Dual(nngp, unit[2])


def _chain(value_and_gradient: tuple[float, np.ndarray], cov1: _Dual, cov2: _Dual, nngp: _Dual) -> _Dual:
    value, (d_cov1, d_cov2, d_nngp) = value_and_gradient
    return _Dual(value, d_cov1 * cov1.grad + d_cov2 * cov2.grad + d_nngp * nngp.grad)


def _next_variance(activation: Activation, cov: _Dual) -> _Dual:
    """A diagonal entry cov = Sigma^l(x, x) (cov1 or cov2) one layer up: Sigma^{l+1}(x, x) = V(cov)
    = E[phi(sqrt(cov) g)^2], with V'(cov) = E[phi(sqrt(cov) g)^2 (g^2 - 1)] / (2 cov)."""
    cov_value = cov.value
    g, w = gaussian_nodes(tuple(k / math.sqrt(cov_value) for k in activation.kinks))
    squared = _evaluate(activation.value, math.sqrt(cov_value) * g) ** 2
    value = float(w @ squared)
    derivative = float(w @ (squared * (g * g - 1.0))) / (2.0 * cov_value)
    return _Dual(value, derivative * cov.grad)


def _next_cross_kernels(activation: Activation, cov1: _Dual, cov2: _Dual, nngp: _Dual) -> tuple[_Dual, _Dual]:
    """(nngp, dot_sigma) = (Sigma^{l+1}, Sigma-dot^{l+1}) on the pair (x, x') from the layer-l
    covariance [[cov1, nngp], [nngp, cov2]]."""
    rule = _bivariate_rule(cov1.value, cov2.value, nngp.value, activation.kinks, activation.kinks)
    phi_first, dphi_first = activation.both(torch.from_numpy(rule.first()))
    phi_second, dphi_second = activation.both(torch.from_numpy(rule.second()))
    next_nngp = _moment_and_gradient(phi_first.double().numpy(), phi_second.double().numpy(), rule)
    dot_sigma = _moment_and_gradient(dphi_first.double().numpy(), dphi_second.double().numpy(), rule)
    return _chain(next_nngp, cov1, cov2, nngp), _chain(dot_sigma, cov1, cov2, nngp)


def _fc_ntk_dual(activation: Activation, depth: int, cov1: float, cov2: float, nngp: float) -> _Dual:
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    cov1, cov2, nngp = _seed_duals(cov1, cov2, nngp)  # the layer-0 triple, carrying its gradient
    ntk = nngp  # Theta^0 = Sigma^0 = x.x'/d: the first layer's weights
    for _ in range(depth):
        next_nngp, dot_sigma = _next_cross_kernels(activation, cov1, cov2, nngp)
        ntk = next_nngp + ntk * dot_sigma
        cov1, cov2, nngp = _next_variance(activation, cov1), _next_variance(activation, cov2), next_nngp
    return ntk


def fc_ntk_entry(activation: str | Activation, depth: int, cov1: float, cov2: float, nngp: float) -> float:
    """h(cov1, cov2, nngp): the infinite-width NTK of the depth-L FC net on a pair x != x' with
    layer-0 triple (cov1, cov2, nngp) = (||x||^2/d, ||x'||^2/d, x.x'/d) (non-degenerate:
    nngp^2 < cov1 cov2), by the NNGP/NTK recursion."""
    return _fc_ntk_dual(as_activation(activation), depth, cov1, cov2, nngp).value


def fc_ntk_diagonal(activation: str | Activation, depth: int, cov: float = 1.0) -> float:
    """Theta^L(x, x) of the depth-L FC net for an input with ||x||^2/d = ``cov``: the recursion
    on the diagonal, where the pair is one Gaussian, Sigma^{l+1} = E[phi(sqrt(Sigma^l) g)^2],
    Sigma-dot^{l+1} = E[phi'(sqrt(Sigma^l) g)^2] and Theta^{l+1} = Sigma^{l+1} + Theta^l Sigma-dot^{l+1}
    (the limit nngp -> cov of ``fc_ntk_entry``, where its bivariate rule degenerates)."""
    activation = as_activation(activation)
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    if not cov > 0:
        raise ValueError(f"the input's ||x||^2/d must be > 0, got {cov}")
    ntk = cov
    for _ in range(depth):
        g, w = gaussian_nodes(tuple(k / math.sqrt(cov) for k in activation.kinks))
        value, derivative = activation.both(torch.from_numpy(math.sqrt(cov) * g))
        cov = float(w @ value.double().numpy() ** 2)
        ntk = cov + ntk * float(w @ derivative.double().numpy() ** 2)
    return ntk


# ---------------------------------------------------------------------------------------
# Linear coefficients, learning rates and features
# ---------------------------------------------------------------------------------------


def fc_linear_coefficients(activation: str | Activation = "erf", depth: int = 4) -> KernelCoefficients:
    """Coefficients of the linear surrogate of the depth-L FC net (no bias, NTK parameterisation).

    One forward-mode pass of the NNGP/NTK recursion at (cov1, cov2, nngp) = (1, 1, 0).
    For depth 1 this is the two-layer net of Section 3 with both layers trained: linear = 2 zeta^2
    and, with theta0, theta1 the moments of eq. 9, constant = theta0^2, norm = theta0 theta1 / 2.
    """
    ntk = _fc_ntk_dual(as_activation(activation), depth, 1.0, 1.0, 0.0)
    d_cov1, d_cov2, d_nngp = ntk.grad
    norm = 0.5 * float(d_cov1 + d_cov2)  # equal by symmetry; the mean removes rounding asymmetry
    return KernelCoefficients(constant=ntk.value, linear=float(d_nngp), norm=norm)


def cnn_linear_coefficients(activation: str | Activation = "erf", depth: int = 4) -> KernelCoefficients:
    """Coefficients of the linear surrogate of the depth-L CNN (circular padding, flatten readout).

    They equal the FC net's of the same depth and activation, whatever the channel count,
    filter size q or image size. Derivation (position-resolved CNN recursion, Xiao et al.
    2018; Arora et al. 2019): write Sigma_in(p, p') = sum_channels x(p) x'(p') / C0 and
    A the circular q x q patch average acting on position pairs, A[M](p, p') =
    q^-2 sum_delta M(p + delta, p' + delta) (indices mod H, W). The first conv layer's
    pre-activation covariance and NTK are both A[Sigma_in] (the FC's Sigma^0 = Theta^0);
    each further conv layer applies the FC step (nngp, dot_sigma, ntk update) to every
    position pair, the variances of x at p and of x' at p' playing the roles of cov1 and cov2,
    and then A; the flatten readout applies the FC step once more and returns the mean over
    positions p of the diagonal pairs (p, p). So L conv layers take L FC steps. Expand around
    the point where every local patch variance A[Sigma_in](p, p; x, x) is 1 and every cross
    covariance between x and x' is 0: there the state is position-independent and equals the
    FC state at (1, 1, 0), so each linearised step is the FC Jacobian applied position-wise
    followed by A. The diagonal mean commutes with the position-wise Jacobian and is left
    unchanged by A (a circular shift preserves sums), so the first-order change of the CNN NTK
    is the FC Jacobian applied to the means of the input perturbation:
    mean_p Sigma_in(p, p; x, x') = x.x'/d and mean_p (A[Sigma_in](p, p; x, x) - 1)
    = ||x||^2/d - 1. Hence

        Theta_CNN(x, x') = constant + linear x.x'/d + norm (||x||^2/d - 1) + norm (||x'||^2/d - 1) + O(2),

    O(2) being second order in the local overlaps and local variance deviations. For erf the
    constant and norm terms vanish and Theta_CNN = linear x.x'/d + O(2) (Proposition 4.1's
    2 zeta^2 X X^T / d at depth 1); the result is exact to first order for inputs whose
    local patch norms are all 1 (hypercube inputs, as in Proposition 4.1).
    """
    return fc_linear_coefficients(activation, depth)


def cnn_to_fc_learning_rate_ratio(fc: KernelCoefficients, cnn: KernelCoefficients) -> float:
    """eta_CNN / eta_FC making the two linear models coincide (Figure 3: "we adjust the learning
    rates of CNN and FC so that their corresponding linear models are identical").

    A network trained with lr eta has the linear model of kernel eta K_lin, so the models
    coincide when eta_CNN K_CNN = eta_FC K_FC: the ratio is fc.linear / cnn.linear, provided
    the two coefficient triples are proportional (else no learning rate makes them equal).
    """
    ratio = fc.linear / cnn.linear
    if not np.allclose(fc.as_array(), ratio * cnn.as_array(), rtol=1e-9, atol=1e-12 * abs(fc.linear)):
        raise ValueError(f"coefficients {fc} and {cnn} are not proportional: no learning rate matches them")
    return ratio


def matched_learning_rate(lr: float, architecture: str, activation: str, fc_depth: int, cnn_depth: int) -> float:
    """The learning rate of ``architecture`` when the FC net trains with ``lr``: the CNN's is
    scaled by ``cnn_to_fc_learning_rate_ratio`` so that both linear models coincide
    (Figure 3). It equals ``lr`` when the depths are equal (the coefficients are then equal)."""
    if architecture == "fc":
        return lr
    fc = fc_linear_coefficients(activation, fc_depth)
    cnn = cnn_linear_coefficients(activation, cnn_depth)
    return lr * cnn_to_fc_learning_rate_ratio(fc, cnn)

"""Deep FC and convolutional networks and their linear surrogate (Section 4, Figures 3-4).

Networks (NTK parameterisation, no biases)
------------------------------------------
Every weight is drawn from N(0, 1) and every layer divides its pre-activation by
sqrt(fan_in) (Jacot et al. 2018; the parameterisation of eq. 1 and 12 of the paper, and
the default of the Neural Tangents library its figures were made with):

* ``FullyConnectedNTK``: x in R^d -> L hidden layers of width n -> scalar readout,
  z^1 = W^1 x / sqrt(d), z^{l+1} = W^{l+1} phi(z^l) / sqrt(n), f = w . phi(z^L) / sqrt(n).
* ``ConvolutionalNTK``: x in R^{C0 x H x W} -> L hidden q x q convolutions with C channels
  and circular padding (spatial size kept), fan_in = C_in q^2 -> flatten -> scalar readout
  with fan_in = C H W (no pooling).
* ``CenteredNetwork``: f(x; theta) - f(x; theta_0) with theta_0 a frozen copy of the initial
  parameters (stored as buffers), so f_0(x) = 0 exactly for every x (Appendix A: "we subtract
  the function output at initialization for each datapoint").

Linear surrogate (Section 4.1)
------------------------------
The infinite-width NTK of the FC net is K(x, x') = h(||x||^2/d, ||x'||^2/d, x.x'/d). Its
off-diagonal entries are Taylor-expanded around (1, 1, 0):

    h ~ h(1,1,0) + c (x.x'/d) + e (||x||^2/d - 1) + e (||x'||^2/d - 1),

c = dh/d(x.x'/d), e = dh/d(||x||^2/d) = dh/d(||x'||^2/d) (h is symmetric). h is computed by
the NNGP/NTK layer recursion (Jacot et al. 2018, Theorem 1; Lee et al. 2019, "Wide neural
networks of any depth evolve as linear models"; Arora et al. 2019, "On exact computation
with an infinitely wide neural net", whose no-bias form is the one used here): with
Sigma^0 = x.x'/d on the pair (x, x') and ||x||^2/d, ||x'||^2/d on the diagonal,

    Sigma^{l+1}     = E[phi(u) phi(u')],
    Sigma-dot^{l+1} = E[phi'(u) phi'(u')],   (u, u') ~ N(0, Sigma^l restricted to {x, x'}),
    Theta^{l+1}     = Sigma^{l+1} + Theta^l Sigma-dot^{l+1},   Theta^0 = Sigma^0,

and the readout's NTK is Theta^L (L hidden layers). The bivariate Gaussian expectations are
nested 1-D kink-aware Gauss-Legendre quadratures. The derivatives (a, b, rho) -> Theta^L are
carried through the recursion in forward mode; the derivative of a Gaussian expectation
with respect to an entry of the covariance S is the Gaussian integration-by-parts identity
behind Price's theorem,

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
from torch import nn
from torch.nn import functional as F

from .activations import Activation, gaussian_nodes, get_activation

Tensor = torch.Tensor

# ---------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------


def _resolve_activation(activation: str | Activation) -> Activation:
    return get_activation(activation) if isinstance(activation, str) else activation


def _make_generator(seed: int | torch.Generator) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return generator


def _standard_normal(shape: tuple[int, ...], generator: torch.Generator, dtype: torch.dtype) -> nn.Parameter:
    """N(0, 1) weights drawn on the CPU, so the draw does not depend on the device."""
    return nn.Parameter(torch.randn(shape, generator=generator, dtype=dtype))


class NTKLinear(nn.Module):
    """Dense layer z = W x / sqrt(fan_in), W ~ N(0, 1) of shape (out, in), no bias."""

    def __init__(self, in_features: int, out_features: int, generator: torch.Generator, dtype: torch.dtype):
        super().__init__()
        self.weight = _standard_normal((out_features, in_features), generator, dtype)
        self.scale = 1.0 / math.sqrt(in_features)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight) * self.scale


def circular_padding(filter_size: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) circular padding that keeps the spatial size for a q x q filter."""
    before = (filter_size - 1) // 2
    after = filter_size - 1 - before
    return (before, after, before, after)


class NTKConv2d(nn.Module):
    """q x q convolution with circular padding, z = (W * x) / sqrt(C_in q^2), W ~ N(0, 1), no bias.

    Output has the input's spatial size: position p sees the q x q patch around p, wrapped
    around the image edges (the circular padding of Xiao et al. 2018 used in Section 4).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        filter_size: int,
        generator: torch.Generator,
        dtype: torch.dtype,
    ):
        super().__init__()
        if filter_size < 1:
            raise ValueError(f"filter_size must be >= 1, got {filter_size}")
        shape = (out_channels, in_channels, filter_size, filter_size)
        self.weight = _standard_normal(shape, generator, dtype)
        self.padding = circular_padding(filter_size)
        self.scale = 1.0 / math.sqrt(in_channels * filter_size * filter_size)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(F.pad(x, self.padding, mode="circular"), self.weight) * self.scale


class ActivationLayer(nn.Module):
    """Applies a registered activation's phi (autograd supplies phi', with phi'(0) = 1 at kinks)."""

    def __init__(self, activation: Activation):
        super().__init__()
        self.activation = activation

    def forward(self, z: Tensor) -> Tensor:
        return self.activation.value(z)

    def extra_repr(self) -> str:
        return self.activation.name


class FullyConnectedNTK(nn.Module):
    """L-hidden-layer FC network of Figure 3 (width 512, depth 4, erf by default).

    Inputs of shape (batch, d) or (batch, *shape) are flattened; output has shape (batch,).
    Weights are drawn layer by layer, in forward order, from ``seed``.
    """

    def __init__(
        self,
        input_dim: int,
        depth: int = 4,
        width: int = 512,
        activation: str | Activation = "erf",
        seed: int | torch.Generator = 0,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        if depth < 1 or width < 1 or input_dim < 1:
            raise ValueError(f"need depth, width, input_dim >= 1, got {depth}, {width}, {input_dim}")
        generator = _make_generator(seed)
        act = _resolve_activation(activation)
        layers: list[nn.Module] = []
        fan_in = input_dim
        for _ in range(depth):
            layers += [NTKLinear(fan_in, width, generator, dtype), ActivationLayer(act)]
            fan_in = width
        self.hidden = nn.Sequential(*layers)
        self.readout = NTKLinear(width, 1, generator, dtype)
        self.input_dim = input_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.readout(self.hidden(x.reshape(x.shape[0], self.input_dim))).squeeze(-1)


class ConvolutionalNTK(nn.Module):
    """L-hidden-layer CNN of Figure 3 (256 channels, 3 x 3 filters, depth 4, erf by default).

    Circular padding keeps every hidden layer at the input's H x W; the last hidden layer
    is flattened into a linear readout of fan_in C H W (no pooling). Inputs of shape
    (batch, C0, H, W) or flattened (batch, C0 H W); output has shape (batch,).
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        depth: int = 4,
        channels: int = 256,
        filter_size: int = 3,
        activation: str | Activation = "erf",
        seed: int | torch.Generator = 0,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        in_channels, height, width = input_shape
        if depth < 1 or channels < 1:
            raise ValueError(f"need depth, channels >= 1, got {depth}, {channels}")
        if max(circular_padding(filter_size)) > min(height, width):
            raise ValueError(f"filter size {filter_size} too large for a {height} x {width} image")
        generator = _make_generator(seed)
        act = _resolve_activation(activation)
        layers: list[nn.Module] = []
        for layer in range(depth):
            fan_in_channels = in_channels if layer == 0 else channels
            conv = NTKConv2d(fan_in_channels, channels, filter_size, generator, dtype)
            layers += [conv, ActivationLayer(act)]
        self.hidden = nn.Sequential(*layers)
        self.readout = NTKLinear(channels * height * width, 1, generator, dtype)
        self.input_shape = (in_channels, height, width)

    def forward(self, x: Tensor) -> Tensor:
        features = self.hidden(x.reshape(x.shape[0], *self.input_shape))
        return self.readout(features.flatten(1)).squeeze(-1)


class CenteredNetwork(nn.Module):
    """f(x) = g(x; theta) - g(x; theta_0): the network with its output at initialisation subtracted.

    theta_0 is a copy of the wrapped network's parameters taken at construction and kept
    as buffers (they follow ``.to(device)`` and ``state_dict`` but are not parameters, so an
    optimiser over ``parameters()`` trains theta only). g(x; theta_0) is recomputed by
    ``torch.func.functional_call`` with the same operations as g(x; theta), so while
    theta = theta_0 the two evaluations are bitwise identical and f_0(x) = 0 exactly
    (deterministic kernels assumed, as on the CPU). The subtracted term carries no
    gradient, so the NTK and the training dynamics are those of g.
    """

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network
        self._buffer_names: dict[str, str] = {}
        for name, param in network.named_parameters():
            buffer_name = "initial_" + name.replace(".", "_")
            self.register_buffer(buffer_name, param.detach().clone())
            self._buffer_names[name] = buffer_name

    def initial_parameters(self) -> dict[str, Tensor]:
        return {name: getattr(self, buffer) for name, buffer in self._buffer_names.items()}

    def initial_output(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            return torch.func.functional_call(self.network, self.initial_parameters(), (x,))

    def forward(self, x: Tensor) -> Tensor:
        return self.network(x) - self.initial_output(x)


def empirical_ntk(model: nn.Module, X: Tensor) -> Tensor:
    """Finite-width NTK Theta_ij = <df(x_i)/dtheta, df(x_j)/dtheta> over trainable parameters.

    Per-example gradients by autograd (one forward/backward per input); the Jacobian Gram is
    accumulated per parameter tensor in float64. Returns an (n, n) float64 tensor.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    per_example = [torch.autograd.grad(model(X[i : i + 1]).sum(), params) for i in range(X.shape[0])]
    gram = torch.zeros(X.shape[0], X.shape[0], dtype=torch.float64)
    for k in range(len(params)):
        jacobian = torch.stack([grads[k].reshape(-1) for grads in per_example]).to(torch.float64)
        gram += jacobian @ jacobian.T
    return gram


# ---------------------------------------------------------------------------------------
# Gaussian expectations by nested kink-aware quadrature
# ---------------------------------------------------------------------------------------

TorchFunction = Callable[[Tensor], Tensor]


@dataclass(frozen=True, eq=False)
class _BivariateRule:
    """Nodes of E[H(u, u')] for (u, u') ~ N(0, [[a, c], [c, b]]), written as
    u = sqrt(a) g1, u' = sqrt(b) (r g1 + s g2), r = c / sqrt(ab), s = sqrt(1 - r^2).

    g1 (N,) with weights w1 (N,) splits at the kinks of the first function; for each g1
    node the inner rule g2 (N, M), w2 (N, M) splits at the kinks of the second function,
    which move with g1 (rows are zero-padded to a common length).
    """

    var1: float
    var2: float
    corr: float
    g1: np.ndarray
    w1: np.ndarray
    g2: np.ndarray
    w2: np.ndarray

    @property
    def s(self) -> float:
        return math.sqrt(1.0 - self.corr * self.corr)

    def first(self) -> np.ndarray:
        return math.sqrt(self.var1) * self.g1

    def second(self) -> np.ndarray:
        return math.sqrt(self.var2) * (self.corr * self.g1[:, None] + self.s * self.g2)


def _inner_rules(
    corr: float, scale2: float, g1: np.ndarray, kinks2: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
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
    var1: float, var2: float, cov: float, kinks1: Sequence[float], kinks2: Sequence[float]
) -> _BivariateRule:
    if var1 <= 0.0 or var2 <= 0.0:
        raise ValueError(f"variances must be positive, got {var1}, {var2}")
    corr = cov / math.sqrt(var1 * var2)
    if not -1.0 < corr < 1.0:
        raise ValueError(f"covariance must be non-degenerate (|correlation| < 1), got correlation {corr}")
    g1, w1 = gaussian_nodes(tuple(k / math.sqrt(var1) for k in kinks1))
    g2, w2 = _inner_rules(corr, math.sqrt(var2), g1, tuple(kinks2))
    return _BivariateRule(var1, var2, corr, g1, w1, g2, w2)


def _evaluate(function: TorchFunction, points: np.ndarray) -> np.ndarray:
    return function(torch.from_numpy(np.array(points, dtype=np.float64))).double().numpy()


def _moment_and_gradient(
    F_values: np.ndarray, G_values: np.ndarray, rule: _BivariateRule
) -> tuple[float, np.ndarray]:
    """E[F(u) G(u')] and its gradient in (a, b, c) by the integration-by-parts identity.

    With z = (u, u') = L g (L the Cholesky factor), S^-1 z = L^-T g = (y1, y2),
    y1 = (g1 - (r/s) g2) / sqrt(a), y2 = g2 / (s sqrt(b)), and
    dE/dc = E[H (y1 y2 - S^-1_12)], dE/da = E[H (y1^2 - S^-1_11)] / 2, dE/db likewise.
    """
    a, b, r, s = rule.var1, rule.var2, rule.corr, rule.s
    g1, g2 = rule.g1, rule.g2
    weighted = rule.w2 * G_values
    inner = [np.sum(weighted * g2**k, axis=1) for k in range(3)]  # E_g2[G g2^k | g1], k = 0, 1, 2
    outer = rule.w1 * F_values
    t = r / s
    value = float(outer @ inner[0])
    e_y1y2 = float(outer @ (g1 * inner[1] - t * inner[2])) / (s * math.sqrt(a * b))
    e_y1y1 = float(outer @ (g1 * g1 * inner[0] - 2.0 * t * g1 * inner[1] + t * t * inner[2])) / a
    e_y2y2 = float(outer @ inner[2]) / (s * s * b)
    precision_11 = 1.0 / (a * s * s)
    precision_22 = 1.0 / (b * s * s)
    precision_12 = -r / (s * s * math.sqrt(a * b))
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
    var1: float,
    var2: float,
    cov: float,
    kinks_f: Sequence[float] = (),
    kinks_g: Sequence[float] = (),
) -> tuple[float, np.ndarray]:
    """E[f(u) g(u')], (u, u') ~ N(0, [[var1, cov], [cov, var2]]), and its gradient in (var1, var2, cov).

    Nested composite Gauss-Legendre (``earlylin.activations.gaussian_nodes``) with panels
    split where f or g (or their derivatives) jump, so piecewise-smooth integrands reach
    float64 accuracy. Requires |cov| < sqrt(var1 var2).
    """
    rule = _bivariate_rule(var1, var2, cov, kinks_f, kinks_g)
    return _moment_and_gradient(_evaluate(f, rule.first()), _evaluate(g, rule.second()), rule)


def bivariate_gaussian_expectation(
    f: TorchFunction,
    g: TorchFunction,
    var1: float,
    var2: float,
    cov: float,
    kinks_f: Sequence[float] = (),
    kinks_g: Sequence[float] = (),
) -> float:
    """E[f(u) g(u')] for (u, u') ~ N(0, [[var1, cov], [cov, var2]]) (see the gradient version)."""
    return bivariate_gaussian_expectation_and_gradient(f, g, var1, var2, cov, kinks_f, kinks_g)[0]


# ---------------------------------------------------------------------------------------
# The NNGP/NTK recursion in forward mode
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Dual:
    """A scalar with its gradient in (||x||^2/d, ||x'||^2/d, x.x'/d)."""

    value: float
    grad: np.ndarray

    def __add__(self, other: _Dual) -> _Dual:
        return _Dual(self.value + other.value, self.grad + other.grad)

    def __mul__(self, other: _Dual) -> _Dual:
        return _Dual(self.value * other.value, self.value * other.grad + other.value * self.grad)


def _seed_duals(sq_norm_1: float, sq_norm_2: float, overlap: float) -> tuple[_Dual, _Dual, _Dual]:
    unit = np.eye(3)
    return _Dual(sq_norm_1, unit[0]), _Dual(sq_norm_2, unit[1]), _Dual(overlap, unit[2])


def _chain(value_and_gradient: tuple[float, np.ndarray], a: _Dual, b: _Dual, c: _Dual) -> _Dual:
    value, (da, db, dc) = value_and_gradient
    return _Dual(value, da * a.grad + db * b.grad + dc * c.grad)


def _next_variance(activation: Activation, variance: _Dual) -> _Dual:
    """Sigma^{l+1}(x, x) = V(a) = E[phi(sqrt(a) g)^2] and V'(a) = E[phi(sqrt(a) g)^2 (g^2 - 1)] / (2a)."""
    a = variance.value
    g, w = gaussian_nodes(tuple(k / math.sqrt(a) for k in activation.kinks))
    squared = _evaluate(activation.value, math.sqrt(a) * g) ** 2
    value = float(w @ squared)
    derivative = float(w @ (squared * (g * g - 1.0))) / (2.0 * a)
    return _Dual(value, derivative * variance.grad)


def _next_cross_kernels(activation: Activation, a: _Dual, b: _Dual, c: _Dual) -> tuple[_Dual, _Dual]:
    """(Sigma^{l+1}, Sigma-dot^{l+1}) on the pair (x, x') from Sigma^l = [[a, c], [c, b]]."""
    rule = _bivariate_rule(a.value, b.value, c.value, activation.kinks, activation.kinks)
    phi_first, dphi_first = activation.both(torch.from_numpy(rule.first()))
    phi_second, dphi_second = activation.both(torch.from_numpy(rule.second()))
    sigma = _moment_and_gradient(phi_first.double().numpy(), phi_second.double().numpy(), rule)
    sigma_dot = _moment_and_gradient(dphi_first.double().numpy(), dphi_second.double().numpy(), rule)
    return _chain(sigma, a, b, c), _chain(sigma_dot, a, b, c)


def _fc_ntk_dual(
    activation: Activation, depth: int, sq_norm_1: float, sq_norm_2: float, overlap: float
) -> _Dual:
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    a, b, c = _seed_duals(sq_norm_1, sq_norm_2, overlap)
    theta = c  # Theta^0 = Sigma^0 = x.x'/d: the first layer's weights
    for _ in range(depth):
        sigma, sigma_dot = _next_cross_kernels(activation, a, b, c)
        theta = sigma + theta * sigma_dot
        a, b, c = _next_variance(activation, a), _next_variance(activation, b), sigma
    return theta


def fc_ntk_entry(
    activation: str | Activation, depth: int, sq_norm_1: float, sq_norm_2: float, overlap: float
) -> float:
    """h(||x||^2/d, ||x'||^2/d, x.x'/d): the infinite-width NTK of the depth-L FC net on a pair
    x != x' (non-degenerate: overlap^2 < sq_norm_1 sq_norm_2), by the NNGP/NTK recursion."""
    return _fc_ntk_dual(_resolve_activation(activation), depth, sq_norm_1, sq_norm_2, overlap).value


@dataclass(frozen=True)
class DeepLinearCoefficients:
    """First-order Taylor coefficients of the NTK h around (1, 1, 0) (Section 4.1).

    constant = h(1, 1, 0); linear = c = dh/d(x.x'/d);
    norm = e = dh/d(||x||^2/d) = dh/d(||x'||^2/d). Zero constant and norm for odd phi (erf).
    """

    constant: float
    linear: float
    norm: float

    def as_array(self) -> np.ndarray:
        return np.array([self.constant, self.linear, self.norm])


def fc_linear_coefficients(activation: str | Activation = "erf", depth: int = 4) -> DeepLinearCoefficients:
    """Coefficients of the linear surrogate of the depth-L FC net (no bias, NTK parameterisation).

    One forward-mode pass of the NNGP/NTK recursion at (||x||^2/d, ||x'||^2/d, x.x'/d) = (1, 1, 0).
    For depth 1 this is the two-layer net of Section 3 with both layers trained: linear = 2 zeta^2
    and, with theta0, theta1 the moments of eq. 9, constant = theta0^2, norm = theta0 theta1 / 2.
    """
    theta = _fc_ntk_dual(_resolve_activation(activation), depth, 1.0, 1.0, 0.0)
    norm_1, norm_2, linear = theta.grad
    norm = 0.5 * float(norm_1 + norm_2)  # equal by symmetry; the mean removes rounding asymmetry
    return DeepLinearCoefficients(constant=theta.value, linear=float(linear), norm=norm)


def cnn_linear_coefficients(activation: str | Activation = "erf", depth: int = 4) -> DeepLinearCoefficients:
    """Coefficients of the linear surrogate of the depth-L CNN (circular padding, flatten readout).

    They equal the FC net's of the same depth and activation, whatever the channel count,
    filter size q or image size. Derivation (position-resolved CNN recursion, Xiao et al.
    2018; Arora et al. 2019): write Sigma_in(p, p') = sum_channels x(p) x'(p') / C0 and
    A the circular q x q patch average acting on position pairs, A[M](p, p') =
    q^-2 sum_delta M(p + delta, p' + delta) (indices mod H, W). The first conv layer's
    pre-activation covariance and NTK are both A[Sigma_in] (the FC's Sigma^0 = Theta^0);
    each further conv layer applies the FC step (Sigma, Sigma-dot, Theta update) to every
    position pair, the variances of x at p and of x' at p' playing the roles of a and b, and
    then A; the flatten readout applies the FC step once more and returns the mean over
    positions p of the diagonal pairs (p, p). So L conv layers take L FC steps. Expand around
    the point where every local patch variance A[Sigma_in](p, p; x, x) is 1 and every cross
    covariance between x and x' is 0: there the state is position-independent and equals the
    FC state at (1, 1, 0), so each linearised step is the FC Jacobian applied position-wise
    followed by A. The diagonal mean commutes with the position-wise Jacobian and is left
    unchanged by A (a circular shift preserves sums), so the first-order change of the CNN NTK
    is the FC Jacobian applied to the means of the input perturbation:
    mean_p Sigma_in(p, p; x, x') = x.x'/d and mean_p (A[Sigma_in](p, p; x, x) - 1)
    = ||x||^2/d - 1. Hence

        Theta_CNN(x, x') = h(1,1,0) + c x.x'/d + e (||x||^2/d - 1) + e (||x'||^2/d - 1) + O(2),

    O(2) being second order in the local overlaps and local variance deviations. For erf the
    constant and norm terms vanish and Theta_CNN = c x.x'/d + O(2) (Proposition 4.1's
    2 zeta^2 X X^T / d at depth 1); the result is exact to first order for inputs whose
    local patch norms are all 1 (hypercube inputs, as in Proposition 4.1).
    """
    return fc_linear_coefficients(activation, depth)


def cnn_to_fc_learning_rate_ratio(fc: DeepLinearCoefficients, cnn: DeepLinearCoefficients) -> float:
    """eta_CNN / eta_FC making the two linear models coincide (Figure 3: "we adjust the learning
    rates of CNN and FC so that their corresponding linear models are identical").

    A network trained with lr eta has the linear model of kernel eta K_lin, so the models
    coincide when eta_CNN K_CNN = eta_FC K_FC: the ratio is c_FC / c_CNN, provided the two
    coefficient triples are proportional (else no learning rate makes them equal).
    """
    ratio = fc.linear / cnn.linear
    if not np.allclose(fc.as_array(), ratio * cnn.as_array(), rtol=1e-9, atol=1e-12 * abs(fc.linear)):
        raise ValueError(f"coefficients {fc} and {cnn} are not proportional: no learning rate matches them")
    return ratio


# Coefficients below this fraction of c are quadrature rounding of an exact zero (odd phi).
_NEGLIGIBLE = 1e-12


def deep_linear_features(X: np.ndarray, coefficients: DeepLinearCoefficients) -> np.ndarray:
    """Features psi(x) of the deep linear surrogate, one row per input (float64).

    psi(x) = sqrt(c) x / sqrt(d) when the constant term vanishes (erf: f_lin = beta^T psi);
    otherwise one more column q(x) = sqrt(h0) + (e / sqrt(h0)) (||x||^2/d - 1), so that

        psi(x) . psi(x') = h0 + c x.x'/d + e (||x||^2/d - 1) + e (||x'||^2/d - 1)
                           + (e^2 / h0) (||x||^2/d - 1)(||x'||^2/d - 1),

    the first-order Taylor model plus one second-order product, like q(x) q(x') in eq. 9.
    (A vanishing constant forces a vanishing norm term: h(a, a, 0) >= 0 has its minimum
    at a = 1 then.) Inputs of shape (n, d) or (n, *shape) are flattened.
    """
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    d = X.shape[1]
    if coefficients.linear < 0.0:
        raise ValueError(f"the linear coefficient must be >= 0, got {coefficients.linear}")
    linear_part = math.sqrt(coefficients.linear) * X / math.sqrt(d)
    if coefficients.constant <= _NEGLIGIBLE * coefficients.linear:
        if abs(coefficients.norm) > _NEGLIGIBLE * coefficients.linear:
            raise ValueError(f"a norm term {coefficients.norm} without a constant term has no feature map")
        return linear_part
    root = math.sqrt(coefficients.constant)
    excess = np.sum(X * X, axis=1) / d - 1.0
    return np.hstack([linear_part, (root + coefficients.norm / root * excess)[:, None]])


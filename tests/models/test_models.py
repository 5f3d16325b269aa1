"""The models wing: the registry's built-ins and a user's own module, the empirical NTK by
torch.func, Section 4.1's kernel fitted to it, and the linearised network's SGD."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

from earlylin.deep.networks import empirical_ntk as autograd_loop_ntk
from earlylin.deep.ntk_recursion import (
    DeepLinearCoefficients,
    cnn_linear_coefficients,
    fc_linear_coefficients,
    fc_ntk_entry,
)
from earlylin.models.kernel_fit import fit_simple_kernel, simple_kernel
from earlylin.models.linearised import LinearisedNetwork
from earlylin.models.ntk import empirical_ntk, kernel_distance, parameter_count, per_example_jacobian
from earlylin.models.registry import ModelError, ModelSpec, build_model, check_model

pytestmark = pytest.mark.filterwarnings("ignore:There is a performance drop")

SMALL = {
    "fc": ((12,), {"depth": 2, "width": 16}),
    "cnn": ((2, 5, 5), {"depth": 2, "channels": 4}),
    "residual_cnn": ((2, 5, 5), {"blocks": 2, "channels": 4}),
    "fc_standard": ((12,), {"depth": 2, "width": 16}),
}


def _model(network, seed=0, dtype=torch.float64):
    shape, kwargs = SMALL[network]
    return build_model(ModelSpec(network, network, kwargs), shape, seed, dtype), shape


def _inputs(shape, n=9, seed=1):
    return torch.randn((n, *shape), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("network", sorted(SMALL))
def test_empirical_ntk_equals_the_per_example_autograd_loop(network):
    model, shape = _model(network)
    X = _inputs(shape)
    expected = autograd_loop_ntk(model, X)
    assert torch.allclose(empirical_ntk(model, X), expected, rtol=1e-12, atol=1e-12)
    # Block by block (two rows per chunk) gives the same matrix.
    assert torch.allclose(empirical_ntk(model, X, max_elements=2 * parameter_count(model)), expected, rtol=1e-12)


@pytest.mark.parametrize("network", sorted(SMALL))
def test_one_seed_is_one_network_in_any_dtype(network):
    wide, shape = _model(network, seed=3)
    narrow, _ = _model(network, seed=3, dtype=torch.float32)
    again, _ = _model(network, seed=3)
    other, _ = _model(network, seed=4)
    for (name, p), q, r, s in zip(
        wide.named_parameters(), narrow.parameters(), again.parameters(), other.parameters(), strict=True
    ):
        assert q.dtype == torch.float32 and torch.equal(p.to(torch.float32), q), name
        assert torch.equal(p, r) and not torch.equal(p, s), name
    check_model(ModelSpec(network, network), wide, _inputs(shape))


def test_kernel_distance():
    theta = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    assert kernel_distance(theta, 5.0 * theta) == pytest.approx(0.0, abs=1e-15)
    other = torch.eye(2, dtype=torch.float64)
    # <theta, I> = 5, ||theta|| = sqrt(15), ||I|| = sqrt(2)
    assert kernel_distance(theta, other) == pytest.approx(1 - 5 / np.sqrt(30), rel=1e-14)


def test_fit_recovers_an_exactly_simple_kernel_with_norm_terms():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 20)) * rng.uniform(0.8, 1.2, size=(30, 1))
    truth = DeepLinearCoefficients(constant=0.3, linear=0.7, norm=0.2)
    kernels = [simple_kernel(X, truth) * s + np.diag(np.full(30, 0.5)) for s in (0.9, 1.1)]
    fit = fit_simple_kernel(X, kernels)
    assert fit.with_norm_term
    assert np.allclose([fit.constant, fit.linear, fit.norm], truth.as_array(), rtol=1e-10)
    # sd of (0.9 c, 1.1 c) is 0.1 sqrt(2) c, over sqrt(2): 0.1 c
    assert np.allclose([fit.constant_stderr, fit.linear_stderr, fit.norm_stderr], 0.1 * truth.as_array())
    assert fit.residual_frobenius < 1e-12 and fit.residual_spectral < 1e-12
    assert fit.diagonal_gap == pytest.approx(0.5, rel=1e-10)
    assert fit.problems() == []


def _on_the_sphere(n, d, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X * np.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)


def _infinite_width_fc_kernel(X, activation, depth):
    """The exact NTK (``fc_ntk_entry``) on every pair of inputs of norm sqrt(d): a function of
    x.x'/d alone, interpolated by a degree-16 Chebyshev polynomial through 17 exact values
    (interpolation error ~1e-15, checked); diagonal left at 0 (not fitted)."""
    d = X.shape[1]
    rows, cols = np.triu_indices(len(X), k=1)
    overlap = (X @ X.T / d)[rows, cols]
    lo, hi = overlap.min(), overlap.max()
    nodes = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.linspace(0, np.pi, 17))
    values = [fc_ntk_entry(activation, depth, 1.0, 1.0, float(r)) for r in nodes]
    interpolant = np.polynomial.chebyshev.Chebyshev.fit(nodes, values, 16)
    middle = float((lo + hi) / 2 + 0.1 * (hi - lo))
    assert abs(interpolant(middle) - fc_ntk_entry(activation, depth, 1.0, 1.0, middle)) < 1e-12
    kernel = np.zeros((len(X), len(X)))
    kernel[rows, cols] = interpolant(overlap)
    return kernel + kernel.T


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_fitted_fc_coefficients_agree_with_the_recursion_within_their_monte_carlo_error(activation):
    """Width 256, 8 initialisations, 60 inputs on the sphere in d = 64. The same fit applied to
    the exact infinite-width kernel on the same inputs is the value the Monte-Carlo mean
    estimates (finite-width bias O(1/width), well below the error bar); it is within 3% of
    the recursion's Taylor coefficients (the fit absorbs the kernel's higher-order terms in
    x.x'/d ~ 0.1)."""
    X = _on_the_sphere(60, 64)
    spec = ModelSpec("fc", "fc", {"depth": 2, "width": 256, "activation": activation})
    kernels = [empirical_ntk(build_model(spec, (64,), seed, torch.float64), torch.tensor(X)) for seed in range(8)]
    fit = fit_simple_kernel(X, [k.numpy() for k in kernels])
    exact = _infinite_width_fc_kernel(X, activation, 2)
    reference = fit_simple_kernel(X, [exact, exact])
    assert not fit.with_norm_term
    assert abs(fit.linear - reference.linear) < 4 * fit.linear_stderr
    assert abs(fit.constant - reference.constant) < 4 * fit.constant_stderr
    assert 0 < fit.linear_stderr < 0.05 * fit.linear
    taylor = fc_linear_coefficients(activation, 2)
    assert reference.linear == pytest.approx(taylor.linear, rel=0.03)
    assert reference.constant == pytest.approx(taylor.constant, rel=0.03, abs=1e-4)
    assert fit.problems() == []
    if activation == "erf":  # odd: no constant, hence no norm term, in the linear model
        assert fit.coefficients().constant == 0.0


def test_fitted_cnn_coefficients_agree_with_the_recursion_within_their_monte_carlo_error():
    """±1 pixels (every local patch variance is 1, the expansion point of
    ``cnn_linear_coefficients``), 8 input channels on 4 x 4 images: the local overlaps are
    ~1/sqrt(72), and their second-order terms stay below the error bar of 6 initialisations
    of 32 channels."""
    shape = (8, 4, 4)
    X = np.random.default_rng(0).choice([-1.0, 1.0], size=(40, *shape))
    spec = ModelSpec("cnn", "cnn", {"depth": 2, "channels": 32, "activation": "erf"})
    kernels = [empirical_ntk(build_model(spec, shape, seed, torch.float64), torch.tensor(X)) for seed in range(6)]
    fit = fit_simple_kernel(X, [k.numpy() for k in kernels])
    recursion = cnn_linear_coefficients("erf", 2)
    assert abs(fit.linear - recursion.linear) < 4 * fit.linear_stderr
    assert abs(fit.constant - recursion.constant) < 4 * fit.constant_stderr
    assert fit.coefficients().constant == 0.0


def test_linearised_sgd_equals_explicit_jacobian_sgd():
    model, shape = _model("cnn")
    X, y = _inputs(shape, n=20), torch.randn(20, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    linearised = LinearisedNetwork(model)
    J = per_example_jacobian(model, X)
    delta = torch.zeros(J.shape[1], dtype=torch.float64)
    order = torch.Generator().manual_seed(0)
    for _ in range(25):
        batch = torch.randperm(20, generator=order)[:5]
        linearised.sgd_step(X[batch], y[batch], 0.5)
        delta -= 0.5 * J[batch].T @ (J[batch] @ delta - y[batch]) / 5
    expected = J @ delta
    assert expected.abs().max() > 0.1  # it has learned something
    assert torch.allclose(linearised.outputs(X, rows=7), expected, rtol=1e-12, atol=1e-13)
    # The network itself is untouched: theta_0 + delta is a new set of parameters.
    assert all(torch.equal(p, linearised.initial[n]) for n, p in model.named_parameters())


def _network_vs_linearised(width, steps=30):
    """Relative MSE between the centred network and its linearisation after the same SGD."""
    X = torch.tensor(_on_the_sphere(40, 10, seed=5))
    y = torch.sign(X[:, 0])
    model = build_model(ModelSpec("fc", "fc", {"depth": 2, "width": width}), (10,), 0, torch.float64)
    linearised = LinearisedNetwork(model)
    initial = model(X).detach()
    params = list(model.parameters())
    for step in range(steps):
        batch = torch.arange(step % 4 * 10, step % 4 * 10 + 10)
        loss = 0.5 * torch.mean((model(X[batch]) - initial[batch] - y[batch]) ** 2)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p.sub_(g, alpha=1.0)
        linearised.sgd_step(X[batch], y[batch], 1.0)
    with torch.no_grad():
        network = model(X) - initial
    lin = linearised.outputs(X)
    return float(torch.mean((network - lin) ** 2) / torch.mean(lin**2))


def test_the_linearised_network_approaches_the_network_as_the_width_grows():
    """Lee et al. 2019 bound |f - f_lin| by O(width^-1/2), 1/width in mean square; the gap falls at
    least that fast (measured here: about width^-2 in mean square, the O(1/width) function-space
    corrections of Dyer & Gur-Ari 2020)."""
    widths = [32, 128, 512, 2048]
    gaps = [_network_vs_linearised(m) for m in widths]
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False)), gaps
    slope = np.polyfit(np.log(widths), np.log(gaps), 1)[0]
    assert slope < -0.9, (slope, gaps)


# --- bad input: each message names the model, the key and the fix ----------------------------

BAD_FILES = {
    "syntax.py": "def factory(:\n",
    "raises.py": "def factory(shape, generator, width=4):\n    raise RuntimeError('no such width')\n",
    "not_module.py": "def factory(shape, generator):\n    return 3\n",
    "no_params.py": "import torch\ndef factory(shape, generator):\n    return torch.nn.Flatten()\n",
    "two_outputs.py": "import torch\ndef factory(shape, generator):\n    return torch.nn.Linear(shape[0], 2)\n",
    "batchnorm.py": textwrap.dedent(
        """\
        import torch
        def factory(shape, generator):
            return torch.nn.Sequential(torch.nn.Linear(shape[0], 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 1))
        """
    ),
    "wrong_shape.py": "import torch\ndef factory(shape, generator):\n    return torch.nn.Linear(3, 1)\n",
    "nan.py": textwrap.dedent(
        """\
        import torch
        class Bad(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = torch.nn.Parameter(torch.ones(1))
            def forward(self, x):
                return self.w * x.sum(1) / 0.0 * 0.0
        def factory(shape, generator):
            return Bad()
        """
    ),
}


@pytest.mark.parametrize(
    ("network", "kwargs", "message"),
    [
        ("resnet", {}, "not a built-in network and not of the form module:factory"),
        ("no_such_package.models:net", {}, "no module named 'no_such_package'"),
        ("missing.py:factory", {}, "the file 'missing.py' does not exist"),
        ("syntax.py:factory", {}, "importing 'syntax.py' raised SyntaxError"),
        ("raises.py:other", {}, "'raises.py' has no callable 'other'. Name one of its callables: factory"),
        ("raises.py:factory", {}, "the factory raised RuntimeError: no such width"),
        ("raises.py:factory", {"depth": 3}, "Check models.kwargs (it accepts (shape, generator, width=4))"),
        ("fc", {"widht": 3}, "unexpected keyword argument 'widht'"),
        ("not_module.py:factory", {}, "the factory returned a int, not a torch.nn.Module"),
        ("no_params.py:factory", {}, "the module has no trainable parameters"),
        ("two_outputs.py:factory", {}, "returns outputs of shape (4, 2) for a batch of 4 inputs"),
        ("batchnorm.py:factory", {}, "an input's output depends on the rest of its batch"),
        ("nan.py:factory", {}, "outputs at initialisation are not all finite"),
        ("wrong_shape.py:factory", {}, "the module raised RuntimeError on a batch of inputs of shape (4, 6)"),
        ("cnn", {}, "the CNN needs image inputs of shape (C, H, W), got inputs of shape (6,)"),
    ],
)
def test_a_bad_model_is_named_with_its_key_and_the_fix(tmp_path, monkeypatch, network, kwargs, message):
    for name, text in BAD_FILES.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    spec = ModelSpec("mine", network, kwargs, key="models")
    with pytest.raises(ModelError) as error:
        model = build_model(spec, (6,), 0)
        check_model(spec, model, torch.randn(4, 6))
    text = str(error.value)
    assert text.startswith(f"model 'mine' (models.network = '{network}'): ")
    assert message in text


def test_a_users_module_by_file_and_by_import_path(tmp_path, monkeypatch):
    """A factory that ignores the generator and uses nn.Linear's own initialisation is still
    one network per seed (torch's global seed is set from it) and leaves the caller's global
    RNG and default dtype as they were."""
    (tmp_path / "mymodels.py").write_text(
        "import torch\n"
        "def mlp(shape, generator, hidden=8):\n"
        "    layers = torch.nn.Linear(shape[0], hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)\n"
        "    return torch.nn.Sequential(*layers)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    by_file = build_model(ModelSpec("mine", "mymodels.py:mlp", {"hidden": 5}), (6,), 7)
    by_path = build_model(ModelSpec("mine", "mymodels:mlp", {"hidden": 5}), (6,), 7)
    assert torch.equal(torch.random.get_rng_state(), before) and torch.get_default_dtype() == torch.float32
    for p, q in zip(by_file.parameters(), by_path.parameters(), strict=True):
        assert torch.equal(p, q)
    spec = ModelSpec("mine", "mymodels:mlp")
    check_model(spec, by_file, torch.randn(4, 6))
    assert empirical_ntk(by_file.double(), torch.randn(5, 6, dtype=torch.float64)).shape == (5, 5)


def test_a_fit_that_defines_no_linear_model_says_why():
    X = _on_the_sphere(20, 16)
    negative = [simple_kernel(X, DeepLinearCoefficients(constant=-0.5, linear=s, norm=0.0)) for s in (0.9, 1.1)]
    assert any("the constant" in p and "is negative" in p for p in fit_simple_kernel(X, negative).problems())
    flat = [simple_kernel(X, DeepLinearCoefficients(constant=1.0, linear=-s, norm=0.0)) for s in (0.9, 1.1)]
    assert any("the linear coefficient" in p for p in fit_simple_kernel(X, flat).problems())
    with pytest.raises(ValueError, match="at least 2 initialisations"):
        fit_simple_kernel(X, negative[:1])

"""The fig_models pieces: the exact FC kernel, function-space SGD, the fitted linear model's
coefficients, the models section's checks and one small run of a network beside its models."""

import numpy as np
import pytest

from earlylin.data import Dataset
from earlylin.deep.ntk_recursion import DeepLinearCoefficients, deep_linear_features, fc_ntk_diagonal, fc_ntk_entry
from earlylin.deep.training import linear_sgd_step
from earlylin.models.exact_kernel import KernelModelSGD, cnn_exact_kernel, fc_exact_kernel
from earlylin.models.jobs import ModelJob, config_problems, exact_kernel_of
from earlylin.models.kernel_fit import fit_simple_kernel
from earlylin.models.training import relative_at, run_model_sgd, run_tables


def _on_the_sphere(n, d, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X * np.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_the_diagonal_recursion_is_the_limit_of_the_pair_recursion(activation):
    near = fc_ntk_entry(activation, 3, 1.0, 1.0, 1.0 - 1e-8)
    assert fc_ntk_diagonal(activation, 3) == pytest.approx(near, rel=1e-3 if activation == "relu" else 1e-6)


def test_the_diagonal_of_a_one_layer_erf_net_has_its_closed_form():
    """Depth 1, ||x||^2/d = 1: Theta = E[erf(g)^2] + E[erf'(g)^2] with the arcsine and
    Gaussian closed forms (2/pi) asin(2/3) and (4/pi) / sqrt(5)."""
    assert fc_ntk_diagonal("erf", 1) == pytest.approx(2 / np.pi * np.arcsin(2 / 3) + 4 / np.pi / np.sqrt(5), rel=1e-10)


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_the_exact_kernel_matrix_is_the_recursion_on_every_pair(activation):
    X, Z = _on_the_sphere(7, 10, 1), _on_the_sphere(5, 10, 2)
    Z[0] = X[3]  # the same input: the diagonal value
    kernel = fc_exact_kernel(X, Z, activation, 2)
    overlap = X @ Z.T / 10
    for i in range(len(X)):
        for j in range(len(Z)):
            expected = (
                fc_ntk_diagonal(activation, 2)
                if (i, j) == (3, 0)
                else fc_ntk_entry(activation, 2, 1.0, 1.0, float(overlap[i, j]))
            )
            assert kernel[i, j] == pytest.approx(expected, abs=1e-9 * kernel.max())  # the interpolation tolerance


def test_the_exact_kernel_needs_normalised_inputs():
    with pytest.raises(ValueError, match="normalise each input"):
        fc_exact_kernel(2 * _on_the_sphere(3, 4), _on_the_sphere(3, 4), "erf", 2)


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_a_one_by_one_filter_cnn_kernel_is_the_mean_of_fc_kernels_over_pixels(activation):
    """q = 1: every position is an FC net on its pixel's channel vector, and the flatten
    readout averages the FC kernels (the quadrature recursion) over positions."""
    rng = np.random.default_rng(3)
    X, Z = rng.standard_normal((3, 4, 2, 3)), rng.standard_normal((2, 4, 2, 3))
    kernel = cnn_exact_kernel(X, Z, activation, 3, 1)
    for i in range(3):
        for j in range(2):
            x, z = X[i].reshape(4, -1), Z[j].reshape(4, -1)
            expected = np.mean(
                [
                    fc_ntk_entry(activation, 3, x[:, p] @ x[:, p] / 4, z[:, p] @ z[:, p] / 4, x[:, p] @ z[:, p] / 4)
                    for p in range(6)
                ]
            )
            assert kernel[i, j] == pytest.approx(expected, rel=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_the_cnn_kernel_is_the_mean_empirical_ntk_of_wide_cnns(activation):
    """3 x 3 circular filters on 4 x 4 images, depth 2, 128 channels: the empirical NTK
    averaged over 20 initialisations is the exact kernel within 4 of its standard errors on
    every entry, while the kernels of a wrong filter size or depth are not."""
    import torch

    from earlylin.models.ntk import empirical_ntk
    from earlylin.models.registry import ModelSpec, build_model

    shape = (2, 4, 4)
    X = np.random.default_rng(0).standard_normal((4, *shape))
    spec = ModelSpec("cnn", "cnn", {"depth": 2, "channels": 128, "activation": activation})
    kernels = np.stack(
        [empirical_ntk(build_model(spec, shape, seed, torch.float64), torch.tensor(X)).numpy() for seed in range(20)]
    )
    mean, stderr = kernels.mean(0), kernels.std(0, ddof=1) / np.sqrt(len(kernels))
    assert (np.abs(mean - cnn_exact_kernel(X, X, activation, 2, 3)) / stderr).max() < 4
    for depth, filter_size in ((2, 1), (1, 3), (3, 3)):
        wrong = cnn_exact_kernel(X, X, activation, depth, filter_size)
        assert (np.abs(mean - wrong) / stderr).max() > 8


def test_the_cnn_kernel_is_computed_for_erf_and_relu_images():
    with pytest.raises(ValueError, match="for erf, relu"):
        cnn_exact_kernel(np.ones((2, 1, 3, 3)), np.ones((2, 1, 3, 3)), "tanh", 2, 3)
    with pytest.raises(ValueError, match="images"):
        cnn_exact_kernel(np.ones((2, 9)), np.ones((2, 9)), "erf", 2, 3)


def test_the_cnn_kernel_does_not_depend_on_its_chunks():
    X = np.random.default_rng(4).standard_normal((7, 2, 3, 3))
    whole = cnn_exact_kernel(X, X[:5], "erf", 2, 3)
    assert np.allclose(whole, cnn_exact_kernel(X, X[:5], "erf", 2, 3, chunk_elements=9 * 5 * 2), rtol=1e-13, atol=0)
    assert np.allclose(whole[:5], whole[:5].T, rtol=1e-14, atol=0)


def test_function_space_sgd_is_the_linear_model_of_the_same_kernel():
    """With K = psi psi^T, function-space SGD gives the outputs of beta-space SGD, step by step."""
    rng = np.random.default_rng(0)
    X, T = _on_the_sphere(30, 8, 3), _on_the_sphere(9, 8, 4)
    y = np.sign(rng.standard_normal(30))
    coefficients = DeepLinearCoefficients(constant=0.3, linear=0.9, norm=0.0)
    psi, psi_test = deep_linear_features(X, coefficients), deep_linear_features(T, coefficients)
    model = KernelModelSGD(psi @ psi.T, psi_test @ psi.T, y)
    beta = np.zeros(psi.shape[1])
    for _ in range(25):
        batch = rng.choice(30, size=10, replace=False)
        model.sgd_step(batch, 0.7)
        beta = linear_sgd_step(beta, psi[batch], y[batch], 0.7)
    np.testing.assert_allclose(model.train_outputs, psi @ beta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.test_outputs, psi_test @ beta, rtol=1e-10, atol=1e-12)


def test_a_negative_fitted_constant_becomes_zero_with_a_note_and_a_non_positive_slope_stops():
    X = _on_the_sphere(12, 6, 5)
    gram = X @ X.T / 6
    negative = [-0.2 + 1.5 * gram + 0.01 * k for k in range(3)]
    coefficients, notes = fit_simple_kernel(X, negative).linear_model()
    assert coefficients.constant == 0.0 and coefficients.linear == pytest.approx(1.5)
    assert notes and "< 0 (no feature map): the linear model uses constant 0" in notes[0]
    flat = [0.5 - 0.3 * gram + 0.01 * k for k in range(3)]
    with pytest.raises(ValueError, match="the linear coefficient .* is not positive"):
        fit_simple_kernel(X, flat).linear_model()


def test_the_linear_model_uses_the_fitted_constant_on_normalised_inputs_significant_or_not():
    """A constant of about 1.5 standard errors is the least-squares line's, and the linear
    model keeps it on normalised inputs; with a norm term the same constant is 0 (its feature
    map would divide by it)."""
    X = _on_the_sphere(12, 6, 5)
    gram = X @ X.T / 6
    noisy = [0.1 + 0.3 * (-1) ** k + 1.5 * gram for k in range(4)]  # constant 0.1 ± 0.15
    fit = fit_simple_kernel(X, noisy)
    assert abs(fit.constant) < 3 * fit.constant_stderr and fit.coefficients().constant == 0.0
    coefficients, notes = fit.linear_model()
    assert coefficients.constant == pytest.approx(0.1) and notes == []
    scaled = X * np.sqrt(np.linspace(0.8, 1.2, 12))[:, None]  # ||x||^2/d differ: a norm column
    e = np.sum(scaled**2, axis=1) / 6 - 1
    with_norm = [k + 0.2 * (e[:, None] + e[None]) + 1.5 * scaled @ scaled.T / 6 for k in np.array(noisy) - 1.5 * gram]
    coefficients, _ = fit_simple_kernel(scaled, with_norm).linear_model()
    assert coefficients.constant == 0.0 and coefficients.norm == 0.0


def _config(tmp_path, **changes):
    section = dict(
        datasets=["small"],
        networks={"fc": {"network": "fc", "lr": 1.0}},
        seeds=[0],
        batch_size=20,
        max_step=10,
        steps_per_decade=4,
        dtype="float32",
        kernel_points=20,
        kernel_initialisations=2,
        movement_steps=[0, 10],
        movement_points=10,
        linearise=True,
    )
    section.update(changes)
    section.setdefault("train", list(section["networks"]))
    deep = {"n_train": 40, "n_test": 20, "datasets": {"small": {"source": "digits", "classes": [0, 1], "pool": 1}}}
    return {"models": section, "deep": deep}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"datasets": ["nope"]}, "names data set 'nope', which 'deep.datasets' does not define; defined: small"),
        ({"batch_size": 50}, "'models.batch_size' = 50 exceeds the 40 training images of data set 'small'"),
        ({"kernel_points": 41}, "'models.kernel_points' = 41 exceeds the 40 training images"),
        ({"movement_points": 30}, "'models.movement_points' = 30 exceeds models.kernel_points = 20"),
        ({"movement_steps": [0, 100]}, "'models.movement_steps' has steps [100] beyond models.max_step = 10"),
        (
            {"networks": {"mine": {"network": "nets/missing.py:build", "lr": 1.0}}},
            "'models.networks.mine.network' = 'nets/missing.py:build': the file 'nets/missing.py' does not exist",
        ),
        (
            {"networks": {"mine": {"network": "not a path", "lr": 1.0}}},
            "is neither a built-in (fc, cnn, residual_cnn, fc_standard), an import path",
        ),
        ({"train": ["fc", "other"]}, "'models.train' names networks ['other'] that 'models.networks' does not define"),
    ],
)
def test_the_models_section_names_each_bad_value(tmp_path, changes, message):
    problems = config_problems(_config(tmp_path, **changes), tmp_path)
    assert len(problems) == 1 and message in problems[0]


def test_an_existing_model_file_and_an_import_path_pass(tmp_path):
    (tmp_path / "net.py").write_text("def build(shape, generator):\n    pass\n")
    networks = {"a": {"network": "net.py:build", "lr": 1.0}, "b": {"network": "pkg.mod:make", "lr": 1.0}}
    assert config_problems(_config(tmp_path, networks=networks), tmp_path) == []


def _small_job(network, kwargs, **changes):
    fields = dict(
        dataset="small",
        name=network,
        network=network,
        kwargs=kwargs,
        input_shape=(1, 4, 4),
        n_train=60,
        lr=1.0,
        batch_size=20,
        max_step=20,
        steps_per_decade=4,
        dtype="float64",
        kernel_points=24,
        kernel_initialisations=2,
        movement_steps=(0, 20),
        movement_points=12,
        linearise=True,
        exact_kernel=exact_kernel_of(network, kwargs),
    )
    fields.update(changes)
    return ModelJob(**fields)


def _small_images(n_train=60, n_test=20, seed=0):
    X = _on_the_sphere(n_train + n_test, 16, seed)
    y = np.sign(X[:, 0] + 0.5 * X[:, 1])
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:], image_shape=(1, 4, 4))


@pytest.mark.slow
def test_a_wide_fc_net_runs_beside_its_linearised_network_its_linear_model_and_its_exact_kernel():
    """Width 1024: the network and its linearisation agree to O(1/width) at step 1, the exact
    kernel model is closer to the network than the fitted linear model is at the first steps
    (the fit absorbs only the first-order terms), and the kernel barely moves."""
    data = _small_images()
    job = _small_job("fc", {"depth": 2, "width": 1024})
    run = run_model_sgd(data, job, 0, progress=False)
    tables = run_tables(run, data.y_test, 0)
    assert set(tables["losses"]["model"]) == {"network", "linearised", "linear", "exact_kernel"}
    d = tables["discrepancy"]
    assert relative_at(d, "network", "linearised", 1) < 1e-3
    assert relative_at(d, "network", "exact_kernel", 1) < 1e-2
    assert relative_at(d, "network", "exact_kernel", 1) < relative_at(d, "network", "linear", 1)
    movement = tables["movement"].set_index("step")["value"]
    assert movement[0] == 0.0 and 0.0 < movement[20] < 1e-2
    losses = tables["losses"].query("split == 'train'")
    for model, part in losses.groupby("model"):
        assert part["value"].iloc[-1] < part["value"].iloc[0], model
    fit = tables["kernel_fit"].iloc[0]
    assert fit["n_points"] == 24 and fit["n_initialisations"] == 2 and fit["linear"] > 0
    entries = tables["ntk_entries"]
    assert entries["diagonal"].sum() == 24 and len(entries) == 24 + 24 * 23 // 2


@pytest.mark.slow
def test_the_cnn_approaches_its_exact_kernel_model_as_the_channels_grow():
    """From 32 to 512 channels the network's gap to its infinite-width kernel model falls at
    least 4-fold at steps 1 and 10 (measured: 0.017 -> 0.0034 and 0.020 -> 0.0013), and at 512
    channels the network is closer to the exact kernel model than to the fitted linear model,
    whose gap to the exact kernel (the Taylor truncation, about 0.004) does not shrink."""
    data = _small_images()
    gaps = {}
    for channels in (32, 512):
        job = _small_job("cnn", {"depth": 2, "channels": channels}, linearise=False, max_step=10)
        assert job.exact_kernel == ("erf", 2, 3)
        d = run_tables(run_model_sgd(data, job, 0, progress=False), data.y_test, 0)["discrepancy"]
        gaps[channels] = {
            step: (relative_at(d, "network", "exact_kernel", step), relative_at(d, "network", "linear", step))
            for step in (1, 10)
        }
    for step in (1, 10):
        assert gaps[512][step][0] < gaps[32][step][0] / 4
        assert gaps[512][step][0] < gaps[512][step][1]


def test_the_cnn_has_an_exact_kernel_for_erf_and_relu_only():
    assert exact_kernel_of("cnn", {}) == ("erf", 4, 3)
    assert exact_kernel_of("cnn", {"activation": "relu", "filter_size": 5, "depth": 2}) == ("relu", 2, 5)
    assert exact_kernel_of("cnn", {"activation": "tanh"}) is None
    assert exact_kernel_of("fc", {"activation": "tanh"}) == ("tanh", 4)
    assert exact_kernel_of("residual_cnn", {}) is None


@pytest.mark.slow
def test_a_run_is_the_same_twice_and_the_residual_cnn_has_no_exact_kernel():
    data = _small_images()
    job = _small_job("residual_cnn", {"blocks": 1, "channels": 4}, linearise=False)
    first = run_tables(run_model_sgd(data, job, 3, progress=False), data.y_test, 3)
    second = run_tables(run_model_sgd(data, job, 3, progress=False), data.y_test, 3)
    assert set(first["outputs"]["model"]) == {"network", "linear"}
    for name in ("losses", "outputs", "discrepancy", "ntk_entries", "movement"):
        assert first[name].equals(second[name]), name

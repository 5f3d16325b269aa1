"""BatchNorm on purpose and inputs adapted to the network (earlylin.networks.normalisation,
earlylin.networks.inputs, through registry.build_model as the workflow builds a network): a
frozen BatchNorm holds the batch statistics of the initial network on the given inputs and
is then per-example, with an NTK equal to the explicit Jacobian's; GroupNorm replaces each
BatchNorm with its affine parameters; torchvision's ResNet-18 is built by name with keyword
arguments only, downloading nothing; and each bad choice names its key and the fix."""

from __future__ import annotations

import textwrap

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from earlylin.kernels.empirical import empirical_ntk, jacobian_ntk
from earlylin.networks.inputs import AdaptedInput
from earlylin.networks.registry import ModelError, ModelSpec, build_model, check_argument, factory_arguments

# A small residual network with BatchNorm after each convolution, as a user writes one.
RESIDUAL_BN = textwrap.dedent(
    """\
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels)
            self.conv2, self.bn2 = nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels)

        def forward(self, x):
            return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))

    def factory(input_shape, channels=4):
        return nn.Sequential(
            nn.Conv2d(input_shape[0], channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
            Block(channels), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 1),
        )
    """
)
SHAPE = (2, 5, 5)


@pytest.fixture
def residual(tmp_path, monkeypatch):
    (tmp_path / "residual_bn.py").write_text(RESIDUAL_BN)
    monkeypatch.chdir(tmp_path)
    return "residual_bn.py:factory"


def _inputs(n, seed, shape=SHAPE):
    return torch.randn((n, *shape), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _bn_inputs(model: nn.Module, X: torch.Tensor) -> list[torch.Tensor]:
    """The inputs of each BatchNorm layer of ``model`` (in training mode) on the batch ``X``."""
    seen = []
    hooks = [
        m.register_forward_hook(lambda _m, args, _out: seen.append(args[0].detach()))
        for m in model.modules()
        if isinstance(m, nn.BatchNorm2d)
    ]
    with torch.no_grad():
        model(X)
    for hook in hooks:
        hook.remove()
    return seen


def _per_example(model, X):
    together = model(X)
    alone = torch.cat([model(X[i : i + 1]) for i in range(len(X))])
    return float((together - alone).abs().max())


def test_frozen_batch_norm_holds_the_initial_batch_statistics_and_is_per_example(residual):
    statistics, X = _inputs(40, 1), _inputs(6, 2)
    spec = ModelSpec("bn", residual, batch_norm="frozen")
    frozen = build_model(spec, SHAPE, seed=5, dtype=torch.float64, statistics=statistics)
    # the same initial network, its BatchNorm untouched, in training mode on the statistics' batch
    untouched = _untouched(residual, seed=5)
    layers = [m for m in frozen.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(layers) == 3 and not any(layer.training for layer in layers)
    for layer, inputs in zip(layers, _bn_inputs(untouched, statistics), strict=True):
        # torch's convention: the mean and the unbiased variance over batch and positions
        torch.testing.assert_close(layer.running_mean, inputs.mean((0, 2, 3)), rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(layer.running_var, inputs.var((0, 2, 3), unbiased=True), rtol=1e-12, atol=1e-14)
        assert layer.momentum == 0.1  # the user's momentum is restored
    assert _per_example(frozen, X) < 1e-13
    for p, q in zip(frozen.parameters(), untouched.parameters(), strict=True):
        assert torch.equal(p, q)  # freezing changes no parameter
    # the layer-by-layer NTK (eval-mode BatchNorm, its buffers through functional_call) = explicit Jacobian
    expected = jacobian_ntk(frozen, X)
    assert float((empirical_ntk(frozen, X) - expected).norm() / expected.norm()) < 1e-11


def _untouched(network, seed):
    """The factory's module for ``seed`` as build_model draws it, BatchNorm left in training mode."""
    from earlylin.networks import registry

    return registry._call_factory(ModelSpec("bn", network), SHAPE, seed).double()


def test_group_norm_replaces_each_batch_norm_with_its_affine_parameters(residual):
    X = _inputs(6, 2)
    untouched = _untouched(residual, seed=5)
    with torch.no_grad():  # affine parameters that differ from the initial ones, to see them copied
        for m in untouched.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    bns = [m for m in untouched.modules() if isinstance(m, nn.BatchNorm2d)]
    from earlylin.networks.normalisation import replace_with_group_norm

    grouped = replace_with_group_norm(untouched)
    gns = [m for m in grouped.modules() if isinstance(m, nn.GroupNorm)]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in grouped.modules()) and len(gns) == 3
    for bn, gn in zip(bns, gns, strict=True):
        assert gn.num_groups == 4 and gn.eps == bn.eps  # gcd(4 channels, 32)
        assert torch.equal(gn.weight, bn.weight) and torch.equal(gn.bias, bn.bias)
    built = build_model(ModelSpec("bn", residual, batch_norm="group"), SHAPE, seed=5, dtype=torch.float64)
    assert _per_example(built, X) < 1e-13
    # GroupNorm by hand at the first layer: per input, per group of channels
    first = built[0](X)
    groups = first.reshape(len(X), 4, -1)
    by_hand = (groups - groups.mean(-1, keepdim=True)) / torch.sqrt(groups.var(-1, unbiased=False, keepdim=True) + 1e-5)
    torch.testing.assert_close(built[1](first), by_hand.reshape(first.shape) * built[1].weight[:, None, None]
                               + built[1].bias[:, None, None], rtol=1e-12, atol=1e-12)  # fmt: skip
    expected = jacobian_ntk(built, X)
    assert float((empirical_ntk(built, X) - expected).norm() / expected.norm()) < 1e-11


@pytest.mark.parametrize(
    ("adaptation", "expected"),
    [
        ({"channels": 3}, lambda x: x.repeat(1, 3, 1, 1)),
        ({"size": 12}, lambda x: F.interpolate(x, size=(12, 12), mode="bilinear", align_corners=False)),
        ({"size": 11, "mode": "pad"}, lambda x: F.pad(x, (3, 3, 3, 3))),
        ({"size": 12, "mode": "pad"}, lambda x: F.pad(x, (3, 4, 3, 4))),  # the odd row below, right
        (
            {"channels": 3, "size": 9, "mode": "resize"},
            lambda x: F.interpolate(x.repeat(1, 3, 1, 1), size=(9, 9), mode="bilinear", align_corners=False),
        ),
    ],
)
def test_inputs_are_adapted_as_the_config_says(adaptation, expected):
    x = _inputs(3, 4, shape=(1, 5, 5)) + 1.0  # nonzero everywhere, so padding is visible
    adapted = AdaptedInput(nn.Identity(), adaptation)(x)
    torch.testing.assert_close(adapted, expected(x), rtol=0, atol=1e-15)
    if adaptation.get("mode") == "pad":  # the image sits in the centre, zeros around it
        size, top = adapted.shape[-1], (adapted.shape[-1] - 5) // 2
        assert torch.equal(adapted[..., top : top + 5, top : top + 5], x)
        assert float(adapted.abs().sum()) == pytest.approx(float(x.abs().sum()), rel=1e-14) and size > 5


def test_resnet18_by_name_gets_keyword_arguments_only_and_downloads_nothing(monkeypatch):
    def no_download(*args, **kwargs):
        raise RuntimeError("a download was attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", no_download, raising=False)
    spec = ModelSpec("r18", "torchvision.models:resnet18", {"num_classes": 1}, key="models.networks.r18")
    generator = torch.Generator().manual_seed(0)
    # resnet18's first parameter is weights: it gets neither the input shape nor the generator
    assert factory_arguments(spec, torchvision.models.resnet18, (1, 7, 7), generator) == {"num_classes": 1}
    with pytest.raises(ModelError) as refused:
        build_model(spec, (1, 7, 7), seed=0)
    text = str(refused.value)
    assert "it has 20 BatchNorm layers (bn1, layer1.0.bn1, layer1.0.bn2, layer1.1.bn1 and 16 more)" in text
    assert "models.networks.r18.batch_norm: frozen" in text and "or group (each BatchNorm replaced" in text
    grouped = ModelSpec("r18", spec.network, spec.kwargs, spec.key, batch_norm="group", input={"channels": 3})
    model = build_model(grouped, (1, 7, 7), seed=0, dtype=torch.float64, flat_output=True)
    X = _inputs(4, 1, shape=(1, 7, 7))
    assert model(X).shape == (4,) and torch.isfinite(model(X)).all() and _per_example(model, X) < 1e-12
    again = build_model(grouped, (1, 7, 7), seed=0, dtype=torch.float64, flat_output=True)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters(), strict=True))
    # pretrained weights only when the kwargs ask for them: then the factory tries to download
    asked = ModelSpec("r18", spec.network, {"num_classes": 1, "weights": "DEFAULT"}, spec.key, batch_norm="group")
    with pytest.raises(ModelError, match="the factory raised"):
        build_model(asked, (1, 7, 7), seed=0)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            ModelSpec("bn", "batchnorm_file", batch_norm="freeze", key="models.networks.bn"),
            "models.networks.bn.batch_norm = 'freeze' is not a choice. Use one of frozen, group",
        ),
    ],
)
def test_an_unknown_batch_norm_choice_names_the_key_and_the_choices(residual, spec, message):
    spec = ModelSpec(spec.name, residual, batch_norm=spec.batch_norm, key=spec.key)
    with pytest.raises(ModelError) as error:
        build_model(spec, SHAPE, seed=0)
    assert message in str(error.value)


def test_a_width_argument_the_factory_does_not_take_names_the_key(residual):
    check_argument(ModelSpec("fc", "fc"), "width", "models.widths.networks.fc.argument")
    check_argument(ModelSpec("bn", residual), "channels", "models.widths.networks.bn.argument")
    with pytest.raises(ModelError) as error:
        check_argument(ModelSpec("bn", residual), "width", "models.widths.networks.bn.argument")
    assert "models.widths.networks.bn.argument = 'width', but its factory has no argument 'width'" in str(error.value)
    assert "its arguments: channels" in str(error.value)


def test_a_timm_model_by_name_works_the_same_way_where_timm_is_installed(monkeypatch):
    """timm is optional (not a dependency): where it is installed, timm:create_model with its
    model_name in the kwargs is built by keyword, per seed, with no download."""
    timm = pytest.importorskip("timm")

    def no_download(*args, **kwargs):
        raise RuntimeError("a download was attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    spec = ModelSpec(
        "t18", "timm:create_model", {"model_name": "resnet18", "num_classes": 1}, "models.networks.t18", "frozen"
    )
    assert factory_arguments(spec, timm.create_model, (3, 8, 8), torch.Generator()) == dict(spec.kwargs)
    X = _inputs(4, 1, shape=(3, 8, 8))
    model = build_model(
        spec, (3, 8, 8), seed=2, dtype=torch.float64, flat_output=True, statistics=_inputs(16, 3, (3, 8, 8))
    )
    again = build_model(
        spec, (3, 8, 8), seed=2, dtype=torch.float64, flat_output=True, statistics=_inputs(16, 3, (3, 8, 8))
    )
    assert model(X).shape == (4,) and _per_example(model, X) < 1e-12
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters(), strict=True))


def test_group_norm_of_a_batch_norm_1d_normalises_each_input_over_its_features():
    """A BatchNorm1d may see (batch, channels) alone: its GroupNorm has one group, so one
    input's features are normalised together (never a group of one value)."""
    from earlylin.networks.normalisation import replace_with_group_norm

    model = replace_with_group_norm(nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.Linear(16, 1))).double()
    assert model[1].num_groups == 1
    X = _inputs(5, 0, shape=(6,))
    hidden = model[0](X)
    by_hand = (hidden - hidden.mean(1, keepdim=True)) / torch.sqrt(hidden.var(1, unbiased=False, keepdim=True) + 1e-5)
    torch.testing.assert_close(model[1](hidden), by_hand, rtol=1e-12, atol=1e-12)
    assert _per_example(model, X) < 1e-13 and torch.isfinite(model(X[:1])).all()

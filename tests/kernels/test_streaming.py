"""The layer-by-layer empirical NTK (earlylin.kernels.streaming) equals torch.func's whole
Jacobian (``jacobian_ntk``) on every kind of module a user brings: the layers it has rules for,
in every form (padding modes, strides, groups, a layer used twice), and the parameters it must
hand to torch.func (tied weights, attention's packed projection, custom autograd functions),
in float64 and float32."""

from __future__ import annotations

import pytest
import torch
import torchvision
import user_modules
from small_networks import SMALL, small_inputs, small_model
from torch import nn
from torch.nn import functional as F

from earlylin.kernels.empirical import empirical_ntk, jacobian_ntk
from earlylin.kernels.streaming import describe_plan

pytestmark = [
    pytest.mark.filterwarnings("ignore:There is a performance drop"),
    pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel"),
]


def _inputs(shape, n=6, dtype=torch.float64):
    return torch.randn((n, *shape), generator=torch.Generator().manual_seed(3), dtype=dtype)


def _assert_equal_to_jacobian(model, X, rtol=1e-11, memory_bytes=None):
    expected = jacobian_ntk(model, X)
    got = empirical_ntk(model, X) if memory_bytes is None else empirical_ntk(model, X, memory_bytes=memory_bytes)
    assert got.dtype == torch.float64 and got.shape == (len(X), len(X))
    error = float((got - expected).norm() / expected.norm())
    assert error < rtol, error


def _forms(model, X) -> dict[str, str]:
    return {row["parameter"]: row["form"] for row in describe_plan(model, X)}


class Readout(nn.Module):
    """A body, flattened, read out to one value per input."""

    def __init__(self, body: nn.Module, features: int):
        super().__init__()
        self.body, self.readout = body, nn.Linear(features, 1)

    def forward(self, x):
        return self.readout(self.body(x).flatten(1))[:, 0]


def _convolutions(shape=(2, 6, 6)):
    """Every option the convolution rule reads: circular and reflect padding, stride,
    dilation, groups, 'same' padding, no bias."""
    c = shape[0]
    body = nn.Sequential(
        nn.Conv2d(c, 4, 3, padding=1, padding_mode="circular"),
        nn.Tanh(),
        nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect", groups=2, bias=False),
        nn.Tanh(),
        nn.Conv2d(4, 6, 2, stride=2, dilation=1, padding="valid"),
        nn.Tanh(),
        nn.Conv2d(6, 3, 2, padding="same", dilation=2),
    )
    return Readout(body, 3 * 3 * 3).double()


class Conv1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 3, 3, stride=2, padding=1, padding_mode="circular")
        self.conv2 = nn.Conv1d(3, 2, 2, padding="same")
        self.out = nn.Linear(2 * 4, 1)

    def forward(self, x):
        return self.out(torch.tanh(self.conv2(torch.tanh(self.conv(x)))).flatten(1))[:, 0]


class Tied(nn.Module):
    """An embedding table used again as the readout's weights (weight tying), by a matmul."""

    def __init__(self, d=6):
        super().__init__()
        self.hidden = nn.Linear(d, 4)
        self.table = nn.Embedding(5, 4)

    def forward(self, x):
        h = torch.tanh(self.hidden(x)) + self.table(torch.zeros(len(x), dtype=torch.long))
        return (h @ self.table.weight.T).sum(1)


class _ScaledMatmul(torch.autograd.Function):
    """x @ w.T * 2 with its own backward (a custom autograd function that takes a weight)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x, w):
        return 2 * x @ w.T

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return 2 * grad @ w, 2 * grad.transpose(-1, -2) @ x


class CustomFunction(nn.Module):
    def __init__(self, d=6):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(5, d))
        self.out = nn.Linear(5, 1)

    def forward(self, x):
        return self.out(torch.tanh(_ScaledMatmul.apply(x, self.weight)))[:, 0]


class BatchNormEval(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.norm = nn.BatchNorm2d(4)
        self.out = nn.Linear(4 * 4 * 4, 1)
        with torch.no_grad():
            self.norm.running_mean.uniform_(-1, 1)
            self.norm.running_var.uniform_(0.5, 2)
            self.norm.weight.uniform_(0.5, 2)
        self.norm.eval()

    def forward(self, x):
        return self.out(torch.relu(self.norm(self.conv(x))).flatten(1))[:, 0]


def _resnet18_group_norm():
    """torchvision's ResNet-18 as it ships (in-place ReLU, out += identity), GroupNorm for BatchNorm."""
    torch.manual_seed(0)
    return torchvision.models.resnet18(num_classes=1, norm_layer=lambda c: nn.GroupNorm(min(32, c), c)).double()


def _user(name, shape=(12,)):
    return getattr(user_modules, name)(shape, torch.Generator().manual_seed(0)).double(), shape


@pytest.mark.parametrize("network", sorted(SMALL))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_built_in_networks_in_float64_and_float32(network, dtype):
    model, shape = small_model(network, dtype=dtype)
    X = small_inputs(shape, n=7).to(dtype)
    # float32: the layer products are float32 (relative rounding ~1e-7), summed in float64.
    _assert_equal_to_jacobian(model, X, rtol=1e-11 if dtype == torch.float64 else 2e-6)


def test_the_papers_cnn_with_circular_padding_reads_the_padded_input():
    model, shape = small_model("cnn")
    assert set(_forms(model, small_inputs(shape))) and all(
        form != "torch.func" for form in _forms(model, small_inputs(shape)).values()
    )
    _assert_equal_to_jacobian(model, small_inputs(shape))


def test_convolutions_with_every_option():
    model = _convolutions()
    X = _inputs((2, 6, 6))
    assert "torch.func" not in _forms(model, X).values()
    _assert_equal_to_jacobian(model, X)


def test_one_dimensional_convolutions():
    model = Conv1dNet().double()
    X = _inputs((2, 8))
    assert "torch.func" not in _forms(model, X).values()
    _assert_equal_to_jacobian(model, X)


def test_torchvision_resnet18_with_group_norm():
    model = _resnet18_group_norm()
    X = _inputs((3, 16, 16), n=4)
    forms = _forms(model, X)
    assert "torch.func" not in forms.values()  # every layer of it has a rule
    # 1 x 1 feature maps in layer4: (A A^T) * (D D^T); the 8 x 8 stem: per-example gradients.
    assert forms["layer4.1.conv2.weight"] == "factors" and forms["conv1.weight"] == "gradients"
    _assert_equal_to_jacobian(model, X)


def test_batch_norm_in_eval_mode():
    model = BatchNormEval().double()
    X = _inputs((2, 6, 6))
    assert _forms(model, X)["norm.weight"] == "gradients"
    _assert_equal_to_jacobian(model, X)


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("weight_sharing", (12,)),
        ("frozen_layer", (12,)),
        ("with_buffer", (12,)),
        ("inplace_relu", (12,)),
        ("embedding", (12,)),
        ("transformer_block", (3, 2, 2)),
        ("torch_transformer_layer", (3, 2, 2)),
        ("readout_column", (12,)),
    ],
)
def test_the_modules_users_bring(name, shape):
    model, shape = _user(name, shape)
    _assert_equal_to_jacobian(model, _inputs(shape))


def test_a_layer_used_twice_is_one_weight_over_both_calls():
    model, shape = _user("weight_sharing")
    assert _forms(model, _inputs(shape))["shared.weight"] == "factors"


def test_frozen_parameters_have_no_block():
    model, shape = _user("frozen_layer")
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert frozen and not frozen & set(_forms(model, _inputs(shape)))


def test_layer_norm_and_attention():
    """The hand-written block: LayerNorm weights by their rule; the torch block's packed
    attention projection (used inside multi_head_attention_forward) by torch.func."""
    model, shape = _user("transformer_block", (3, 2, 2))
    assert _forms(model, _inputs(shape))["norm1.weight"] == "gradients"
    model, shape = _user("torch_transformer_layer", (3, 2, 2))
    forms = _forms(model, _inputs(shape))
    assert forms["block.self_attn.in_proj_weight"] == "torch.func"
    assert forms["block.norm1.bias"] == "gradients" and forms["block.linear1.weight"] == "factors"


@pytest.mark.parametrize(
    ("model", "parameter"),
    [
        (Tied(), "table.weight"),
        (CustomFunction(), "weight"),
    ],
    ids=["tied-weights", "custom-autograd-function"],
)
def test_what_no_rule_reads_falls_back_to_torch_func(model, parameter):
    model = model.double()
    X = _inputs((6,))
    assert _forms(model, X)[parameter] == "torch.func"
    _assert_equal_to_jacobian(model, X)


class PaddedEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = nn.Embedding(4, 3, padding_idx=0)
        self.out = nn.Linear(6 + 3 * 3, 1)

    def forward(self, x):
        index = (x[:, :3].abs() * 2).long().clamp(max=3)
        return self.out(torch.cat([x, self.table(index).flatten(1)], 1))[:, 0]


def test_an_embedding_with_a_padding_row():
    model = PaddedEmbedding().double()
    X = _inputs((6,))
    assert _forms(model, X)["table.weight"] == "torch.func"
    _assert_equal_to_jacobian(model, X)


@pytest.mark.parametrize("memory_bytes", [8 * 6 * 4, 8 * 6 * 64, 1 << 30, None])
def test_any_memory_budget_gives_the_same_kernel(memory_bytes):
    """One pass for all, one per layer, or weights in blocks of output channels."""
    model = _convolutions()
    _assert_equal_to_jacobian(model, _inputs((2, 6, 6)), memory_bytes=memory_bytes)


def test_a_bias_alone_trains_without_its_weight():
    model = nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 1), nn.Flatten(0)).double()
    model[0].weight.requires_grad_(False)
    X = _inputs((6,))
    assert _forms(model, X)["0.bias"] == "gradients"
    _assert_equal_to_jacobian(model, X)


def test_the_linear_layer_rule_reads_sequences():
    """A dense layer applied at every position of a sequence: T > 1 in the factor form."""
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Flatten(1), nn.Linear(20, 1), nn.Flatten(0)).double()
    X = _inputs((4, 3))
    assert _forms(model, X)["0.weight"] in ("factors", "gradients")
    _assert_equal_to_jacobian(model, X)


def test_group_norm_weights_by_rule():
    model = Readout(nn.Sequential(nn.Conv2d(2, 4, 3), nn.GroupNorm(2, 4), nn.ReLU(inplace=True)), 4 * 16).double()
    X = _inputs((2, 6, 6))
    forms = _forms(model, X)
    assert forms["body.1.weight"] == forms["body.1.bias"] == "gradients"
    _assert_equal_to_jacobian(model, X)


def test_functional_conv_of_an_own_weight():
    """A network of its own layers calling F.conv2d / F.linear on its parameters (the built-ins
    do) needs no module class of torch."""

    class Own(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(3, 2, 3, 3))
            self.v = nn.Parameter(torch.randn(1, 3 * 16))

        def forward(self, x):
            h = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), self.w, stride=1)
            return F.linear(torch.tanh(h).flatten(1)[:, : 3 * 16], self.v)[:, 0]

    model = Own().double()
    X = _inputs((2, 4, 4))
    assert set(_forms(model, X).values()) <= {"factors", "gradients"}
    _assert_equal_to_jacobian(model, X)


class ClassToken(nn.Module):
    """A layer applied to a learned token the inputs never reach: a backward pass to the
    inputs alone would miss it."""

    def __init__(self, d=6):
        super().__init__()
        self.token = nn.Parameter(torch.randn(1, 3))
        self.project = nn.Linear(3, 4)
        self.hidden = nn.Linear(d, 4)
        self.out = nn.Linear(4, 1)

    def forward(self, x):
        token = self.project(self.token.expand(len(x), -1))
        return self.out(torch.tanh(self.hidden(x) + token))[:, 0]


def test_a_layer_on_a_branch_the_inputs_do_not_reach():
    model = ClassToken().double()
    X = _inputs((6,))
    assert _forms(model, X)["project.weight"] != "torch.func"
    _assert_equal_to_jacobian(model, X)


def test_a_module_is_checked_once_while_nothing_the_check_reads_changes(monkeypatch):
    from earlylin.kernels import streaming

    checks = []
    real = streaming._checked_plan
    monkeypatch.setattr(streaming, "_checked_plan", lambda model, X: checks.append(1) or real(model, X))
    model = BatchNormEval().double()
    X = _inputs((2, 6, 6))
    empirical_ntk(model, X)
    with torch.no_grad():
        model.conv.weight.mul_(2.0)  # new values: the same plan
    _assert_equal_to_jacobian(model, X)
    assert len(checks) == 1
    model.conv.bias.requires_grad_(False)  # fewer parameters: checked again
    _assert_equal_to_jacobian(model, X)
    empirical_ntk(model, X[:4])  # another N, same shape: the same plan
    assert len(checks) == 2


def test_the_default_budget_is_a_quarter_of_the_available_memory(monkeypatch):
    from earlylin.kernels import streaming

    assert streaming._available_host_memory() > 0
    monkeypatch.setattr(streaming, "_available_host_memory", lambda: 8 << 30)
    assert streaming.memory_budget(torch.device("cpu")) == 2 << 30
    monkeypatch.setattr(streaming, "_available_host_memory", lambda: 1 << 20)
    assert streaming.memory_budget(torch.device("cpu")) == 1 << 28  # at least 256 MiB

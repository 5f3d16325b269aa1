"""Per-example gradients of one parameter from the activations of the call that used it.

A rule reads one call of a torch function whose argument is a watched parameter (the call's
input and, in the backward pass, the gradient of the summed outputs with respect to the call's
output, D) and gives, for each input i of a batch of B, what the empirical NTK needs of that
parameter:

* ``matmul`` (``linear``, ``conv1d``, ``conv2d``): the weight's per-example gradient is
  sum_t D_it^T A_it, with A the layer's input (for a convolution its unfolded patches, after any
  padding the module applied) and t the positions the weight is shared over (a sequence, the
  pixels of a feature map, the calls of a layer used twice). Its factors (A, D) are kept, so the
  NTK block can be formed either from the gradients (G G^T, cost P per pair) or from the factors
  K_ij = sum_{t,s} (A_it . A_js) (D_it . D_js) (cost T^2 (a + o) per pair: for a dense layer
  applied once, T = 1, this is (A A^T) * (D D^T)), whichever is cheaper;
* every other rule gives the per-example gradient itself: biases (sum_t D_it), the affine
  weights of LayerNorm, GroupNorm and BatchNorm in eval mode (sum over positions of D times the
  normalised input), and embeddings (D scattered to the rows the input picked).

A parameter used by any other operation has no rule and is differentiated by ``torch.func``
(``streaming``). Rules never trust that a call is what it seems: ``streaming`` checks each one
against ``torch.func`` on a few inputs before using it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

Tensor = torch.Tensor


class RuleMismatch(RuntimeError):
    """A call the rule cannot read per example (batch not in dimension 0, an option it does not model)."""


@dataclass
class MatmulFactors:
    """A weight's factors for a batch: A (B, G, T, a) and D (B, G, T, o), the weight seen as
    G groups of (o, a) matrices (G = 1 but for grouped convolutions)."""

    A: Tensor
    D: Tensor

    def per_example(self, channels: slice | None = None) -> Tensor:
        """The per-example gradient (B, G * o * a), in the weight's flattened order; with
        ``channels`` (G = 1 only) the rows of those output channels only."""
        D = self.D if channels is None else self.D[..., channels]
        return torch.einsum("bgto,bgta->bgoa", D, self.A).reshape(D.shape[0], -1)

    def squared_norms(self) -> Tensor:
        """(B,): ||per-example gradient||^2, from the factors when each group has one position."""
        if self.A.shape[2] == 1:
            return (self.A.square().sum(-1) * self.D.square().sum(-1)).sum(dim=(1, 2))
        return self.per_example().square().sum(1)

    @staticmethod
    def join(calls: list[MatmulFactors]) -> MatmulFactors:
        """One layer used several times: its calls are more positions t."""
        if len(calls) == 1:
            return calls[0]
        return MatmulFactors(torch.cat([c.A for c in calls], dim=2), torch.cat([c.D for c in calls], dim=2))


def _batch(tensor: Tensor, rows: int, what: str) -> None:
    if tensor.dim() == 0 or tensor.shape[0] != rows:
        raise RuleMismatch(f"{what} has shape {tuple(tensor.shape)}, not (batch={rows}, ...)")


def _conv_padding(padding, kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """F.pad's (left, right, top, bottom) for a convolution's ``padding`` argument."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * len(kernel))
        pads: list[int] = []
        for k, d in zip(reversed(kernel), reversed(dilation)):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        return tuple(pads)
    padding = (padding,) * len(kernel) if isinstance(padding, int) else tuple(padding)
    return tuple(p for size in reversed(padding) for p in (size, size))


def _tuple(value, n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


def conv_patches(x: Tensor, weight: Tensor, stride, padding, dilation, groups: int) -> Tensor:
    """The patches a convolution multiplies its weight with: (B, G, T, a), a = C_in / G x kernel,
    in the order of ``weight[g * o:(g + 1) * o].reshape(o, a)``."""
    spatial = weight.dim() - 2
    if spatial == 1:  # a 1-d convolution is a 2-d one of height 1
        x, weight = x.unsqueeze(2), weight.unsqueeze(2)
        stride, padding, dilation = (1, *_tuple(stride, 1)), padding, (1, *_tuple(dilation, 1))
        pads = _conv_padding(
            padding if isinstance(padding, str) else _tuple(padding, 1), weight.shape[3:], dilation[1:]
        )
        pads = (*pads, 0, 0)
    else:
        stride, dilation = _tuple(stride, 2), _tuple(dilation, 2)
        pads = _conv_padding(padding, tuple(weight.shape[2:]), dilation)
    if any(pads):
        x = F.pad(x, pads)
    patches = F.unfold(x, tuple(weight.shape[2:]), dilation=dilation, stride=stride)  # (B, C k, T)
    B, _, T = patches.shape
    return patches.view(B, groups, -1, T).transpose(2, 3)


def _conv_options(args: tuple, kwargs: dict) -> dict:
    return dict(zip(("input", "weight", "bias", "stride", "padding", "dilation", "groups"), args), **kwargs)


def conv_per_example(
    args: tuple, kwargs: dict, output_grad: Tensor, rows: int, channels: slice | None = None
) -> Tensor:
    """(B, P) per-example gradients of a convolution's weight (or of the output channels
    ``channels``, ungrouped convolutions), as one grouped weight-gradient convolution: the
    batch folded into the channels, one group per input and weight group. Same work as the
    layer's own batched weight gradient; no unfolded patches."""
    options = _conv_options(args, kwargs)
    x, weight = options["input"], options["weight"]
    _batch(x, rows, "its input")
    _batch(output_grad, rows, "its output")
    groups = options.get("groups", 1)
    if channels is not None:
        if groups != 1:
            raise RuleMismatch("blocks of output channels of a grouped convolution")
        output_grad = output_grad[:, channels]
    spatial = weight.dim() - 2
    stride, dilation = _tuple(options.get("stride", 1), spatial), _tuple(options.get("dilation", 1), spatial)
    pads = _conv_padding(options.get("padding", 0), tuple(weight.shape[2:]), dilation)
    if any(pads):
        x = F.pad(x, pads)
    out_channels = output_grad.shape[1]
    shape = (rows * out_channels, weight.shape[1], *weight.shape[2:])
    grads = torch.ops.aten.convolution_backward(
        output_grad.reshape(1, rows * out_channels, *output_grad.shape[2:]),
        x.reshape(1, -1, *x.shape[2:]),
        torch.empty(shape, dtype=x.dtype, device=x.device),
        None,
        list(stride),
        [0] * spatial,
        list(dilation),
        False,
        [0] * spatial,
        rows * groups,
        [False, True, False],
    )[1]
    return grads.reshape(rows, -1)


def matmul_factors(kind: str, args: tuple, kwargs: dict, output_grad: Tensor, rows: int) -> MatmulFactors:
    """The weight factors of one call of ``linear`` or ``conv1d``/``conv2d``."""
    x = args[0]
    _batch(x, rows, "its input")
    _batch(output_grad, rows, "its output")
    if kind == "linear":
        A = x.reshape(rows, 1, -1, x.shape[-1])
        D = output_grad.reshape(rows, 1, -1, output_grad.shape[-1])
        return MatmulFactors(A, D)
    weight = args[1]
    options = dict(zip(("bias", "stride", "padding", "dilation", "groups"), args[2:]), **kwargs)
    groups = options.get("groups", 1)
    A = conv_patches(x, weight, options.get("stride", 1), options.get("padding", 0), options.get("dilation", 1), groups)
    D = output_grad.reshape(rows, groups, weight.shape[0] // groups, -1).transpose(2, 3)
    if D.shape[2] != A.shape[2]:
        raise RuleMismatch(f"{D.shape[2]} output positions against {A.shape[2]} patches")
    return MatmulFactors(A, D)


def bias_gradient(output_grad: Tensor, kind: str, rows: int) -> Tensor:
    """(B, out): the bias of a dense layer (last dimension) or a convolution (dimension 1)."""
    _batch(output_grad, rows, "its output")
    if kind == "linear":
        return output_grad.reshape(rows, -1, output_grad.shape[-1]).sum(1)
    return output_grad.reshape(rows, output_grad.shape[1], -1).sum(2)


def normalised_input(kind: str, args: tuple, kwargs: dict) -> Tensor:
    """x-hat of a normalisation call (its output before the affine weight and bias)."""
    x = args[0]
    if kind == "layer_norm":
        shape = args[1]
        eps = kwargs.get("eps", args[4] if len(args) > 4 else 1e-5)
        return F.layer_norm(x, shape, eps=eps)
    if kind == "group_norm":
        eps = kwargs.get("eps", args[4] if len(args) > 4 else 1e-5)
        return F.group_norm(x, args[1], eps=eps)
    # batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    names = ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
    options = dict(zip(names, args), **kwargs)
    if options.get("training", False) or options.get("running_mean") is None:
        raise RuleMismatch("batch statistics (BatchNorm in training mode) are not per example")
    shape = (1, -1) + (1,) * (x.dim() - 2)
    mean = options["running_mean"].view(shape)
    var = options["running_var"].view(shape)
    return (x - mean) / torch.sqrt(var + options.get("eps", 1e-5))


def affine_gradient(kind: str, parameter: Tensor, xhat: Tensor | None, output_grad: Tensor, rows: int) -> Tensor:
    """(B, numel): the per-example gradient of a normalisation's weight (xhat given) or bias."""
    _batch(output_grad, rows, "its output")
    product = output_grad if xhat is None else output_grad * xhat
    if kind == "layer_norm":  # the weight's shape is the trailing dimensions
        return product.reshape(rows, -1, parameter.numel()).sum(1)
    return product.reshape(rows, parameter.numel(), -1).sum(2)  # per channel, dimension 1


def embedding_gradient(args: tuple, kwargs: dict, weight: Tensor, output_grad: Tensor, rows: int) -> Tensor:
    """(B, V * dim): D scattered to the rows each input picked (a padding row or a maximum
    norm, which changes the table, is left to torch.func)."""
    indices = args[0]
    options = dict(zip(("input", "weight", "padding_idx", "max_norm"), args), **kwargs)
    if options.get("padding_idx") is not None or options.get("max_norm") is not None:
        raise RuleMismatch("padding_idx or max_norm")
    _batch(indices, rows, "its input")
    flat = indices.reshape(rows, -1)
    grads = output_grad.reshape(rows, flat.shape[1], -1)
    per_example = torch.zeros(rows, *weight.shape, dtype=output_grad.dtype, device=output_grad.device)
    per_example.scatter_add_(1, flat.unsqueeze(-1).expand_as(grads), grads)
    return per_example.reshape(rows, -1)


@dataclass(frozen=True)
class MatmulShape:
    """What a weight's cost depends on: groups G, positions T (all calls), a and o."""

    groups: int
    positions: int
    inputs: int
    outputs: int

    @property
    def gram_cost(self) -> float:
        """Multiply-adds per pair of inputs from the factors."""
        return self.groups * self.positions**2 * (self.inputs + self.outputs + 1)

    @property
    def jacobian_cost(self) -> float:
        return self.groups * self.inputs * self.outputs

    def prefers_factors(self) -> bool:
        return self.gram_cost < self.jacobian_cost

    @property
    def factor_elements(self) -> int:
        """Per input, stored for the factor form."""
        return self.groups * self.positions * (self.inputs + self.outputs)


def factor_gram(Ai: Tensor, Di: Tensor, Aj: Tensor, Dj: Tensor, out: Tensor, max_elements: int = 1 << 24) -> None:
    """out += sum_{g,t,s} (A_igt . A_jgs) (D_igt . D_jgs) for row block i, column block j."""
    Bi, G, T, _ = Ai.shape
    Bj = Aj.shape[0]
    if T == 1:
        for g in range(G):
            out += (Ai[:, g, 0] @ Aj[:, g, 0].T) * (Di[:, g, 0] @ Dj[:, g, 0].T)
        return
    step = max(1, min(Bi, max_elements // max(Bj * T * T, 1)))
    Aj_flat = Aj.transpose(0, 1).reshape(G, Bj * T, -1)
    Dj_flat = Dj.transpose(0, 1).reshape(G, Bj * T, -1)
    for lo in range(0, Bi, step):
        hi = min(Bi, lo + step)
        Ai_flat = Ai[lo:hi].transpose(0, 1).reshape(G, (hi - lo) * T, -1)
        Di_flat = Di[lo:hi].transpose(0, 1).reshape(G, (hi - lo) * T, -1)
        products = torch.bmm(Ai_flat, Aj_flat.transpose(1, 2)).mul_(torch.bmm(Di_flat, Dj_flat.transpose(1, 2)))
        out[lo:hi] += products.view(G, hi - lo, T, Bj, T).sum(dim=(0, 2, 4))

"""BatchNorm, on purpose: a BatchNorm layer in training mode normalises each input by the
statistics of its batch, so an input's output depends on the rest of the batch and the
network has no per-example NTK, linearisation or linear model. A network entry chooses what
its BatchNorm layers become (``models.networks.<name>.batch_norm``, ``catalogue.BATCH_NORM``):

* ``frozen``: the statistics of the initial network on the training inputs (one batch of the
  first ``FROZEN_POINTS`` of them, as torch computes them in training mode), then fixed: each
  layer in eval mode, a per-example affine map (the usual choice in empirical-NTK studies);
* ``group``: each BatchNorm replaced by a GroupNorm with the same eps and affine parameters:
  over ``gcd(channels, 32)`` groups for BatchNorm2d / 3d (32 groups for every layer of a
  ResNet-18), over one group for BatchNorm1d, whose input may be (batch, channels) alone, where
  a group of one channel would hold one value (a LayerNorm over the features with the
  BatchNorm's per-channel affine map).

A network with a batch-dependent BatchNorm and neither choice is refused, naming both.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# Training inputs whose batch statistics a frozen BatchNorm keeps (all of them when fewer).
FROZEN_POINTS = 512
# Groups of the GroupNorm that replaces a BatchNorm (at most; gcd with the channels).
GROUPS = 32


def batch_dependent(model: nn.Module) -> list[str]:
    """The names of the BatchNorm layers whose outputs depend on the batch: in training mode,
    or without running statistics (then eval mode uses the batch's too)."""
    return [
        name or type(module).__name__
        for name, module in model.named_modules()
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and (module.training or module.running_mean is None)
    ]


def group_norm_of(batch_norm: nn.modules.batchnorm._BatchNorm) -> nn.GroupNorm:
    """A GroupNorm with ``gcd(channels, 32)`` groups (one group for a BatchNorm1d), the
    BatchNorm's eps and its affine parameters (copied)."""
    channels = batch_norm.num_features
    groups = 1 if isinstance(batch_norm, nn.BatchNorm1d) else math.gcd(channels, GROUPS)
    like = batch_norm.weight if batch_norm.affine else batch_norm.running_mean
    options = {"dtype": like.dtype, "device": like.device} if like is not None else {}
    replacement = nn.GroupNorm(groups, channels, eps=batch_norm.eps, affine=batch_norm.affine, **options)
    if batch_norm.affine:  # in the BatchNorm's own dtype: the copy rounds nothing
        with torch.no_grad():
            replacement.weight.copy_(batch_norm.weight)
            replacement.bias.copy_(batch_norm.bias)
    return replacement


def replace_with_group_norm(model: nn.Module) -> nn.Module:
    """``model`` with every BatchNorm replaced by ``group_norm_of`` it (in place; a model that
    is itself a BatchNorm is returned replaced)."""
    if isinstance(model, nn.modules.batchnorm._BatchNorm):
        return group_norm_of(model)
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(parent, child_name, group_norm_of(child))
    return model


def freeze_batch_norm(model: nn.Module, inputs: torch.Tensor) -> nn.Module:
    """``model`` with each BatchNorm's running statistics set to those of one batch of
    ``inputs`` (its first ``FROZEN_POINTS``) in training mode, then in eval mode (in place).
    Other layers keep their mode. The statistics come from one forward pass without gradients."""
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return model
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        if layer.running_mean is None:
            layer.running_mean = torch.zeros(layer.num_features, dtype=inputs.dtype, device=inputs.device)
            layer.running_var = torch.ones(layer.num_features, dtype=inputs.dtype, device=inputs.device)
            layer.num_batches_tracked = torch.tensor(0, dtype=torch.long, device=inputs.device)
            layer.track_running_stats = True
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average: one batch gives its own statistics
        layer.train()
    parameter = next(model.parameters())
    with torch.no_grad():
        model(inputs[:FROZEN_POINTS].to(parameter.device, parameter.dtype))
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum
        layer.eval()
    return model

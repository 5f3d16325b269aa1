"""A network's inputs as it expects them (``models.networks.<name>.input``): the data set's
images given to a module built for other images, e.g. MNIST's grey 7 x 7 digits to a
torchvision ResNet-18 that expects 3 channels. The adaptation is the module's first layer,
without parameters, so the NTK, the linearised network and the linear model all see the same
function of the data set's inputs:

* ``channels``: a grey image (1 channel) repeated to this many channels;
* ``size`` with ``mode``: ``resize`` (bilinear interpolation to size x size) or ``pad`` (zeros
  around the image, centred, to size x size).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class AdaptedInput(nn.Module):
    """``module`` fed images of (``channels``, ``size``, ``size``) made from the data set's (see
    the module docstring); ``adaptation``: {channels, size, mode}, each optional."""

    def __init__(self, module: nn.Module, adaptation: Mapping[str, Any]):
        super().__init__()
        self.module = module
        self.channels = adaptation.get("channels")
        self.size = adaptation.get("size")
        self.mode = adaptation.get("mode", "resize")
        self.activation_elements = getattr(module, "activation_elements", 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels is not None and x.shape[1] != self.channels:
            x = x.expand(x.shape[0], self.channels, *x.shape[2:])
        if self.size is not None and tuple(x.shape[2:]) != (self.size, self.size):
            if self.mode == "resize":
                x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
            else:
                height, width = x.shape[2:]
                top, left = (self.size - height) // 2, (self.size - width) // 2
                x = F.pad(x, (left, self.size - width - left, top, self.size - height - top))
        return self.module(x)

import pytest
import torch

from earlylin.cost import ASSUMED_CPU_FLOPS, cnn_forward_flops, cpu_cost_warning, deep_run_flops, fc_forward_flops


def _matmul_flops_by_counting(model, x):
    """FLOPs of the Linear/Conv2d products of one forward pass, counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


def test_fc_flops_match_torch_flop_counter():
    d, depth, width = 12, 3, 20
    layers, fan_in = [], d
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width, bias=False), torch.nn.Tanh()]
        fan_in = width
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1, bias=False))
    assert fc_forward_flops(d, depth, width) == _matmul_flops_by_counting(model, torch.zeros(1, d))


def test_cnn_flops_match_torch_flop_counter():
    c0, h, w, depth, channels, q = 3, 6, 5, 2, 4, 3
    layers, c_in = [], c0
    for _ in range(depth):
        layers += [torch.nn.Conv2d(c_in, channels, q, padding=1, padding_mode="circular", bias=False), torch.nn.Tanh()]
        c_in = channels
    model = torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(channels * h * w, 1, bias=False))
    expected = _matmul_flops_by_counting(model, torch.zeros(1, c0, h, w))
    assert cnn_forward_flops((c0, h, w), depth, channels, q) == expected


def test_paper_scale_cnn_on_cpu_is_warned_about_and_preview_is_not():
    deep = dict(fc=dict(depth=4, width=512), cnn=dict(depth=4, channels=256, filter_size=3),
                batch_size=500, max_step=10_000, n_test=2000)
    flops = deep_run_flops("cnn", (3, 8, 8), deep, n_logged=50)
    assert flops == pytest.approx(4 * 500 * 10_000 * cnn_forward_flops((3, 8, 8), 4, 256, 3), rel=0.01)
    message = cpu_cost_warning({"cnn cifar10_8x8": flops})
    assert "cnn cifar10_8x8" in message and "preview" in message and "GPU" in message
    hours = flops / ASSUMED_CPU_FLOPS / 3600
    assert f"~{hours:.0f} h" in message
    preview = dict(deep, cnn=dict(depth=4, channels=16, filter_size=3), batch_size=50, max_step=300, n_test=100)
    assert cpu_cost_warning({"cnn digits": deep_run_flops("cnn", (1, 8, 8), preview, n_logged=20)}) is None
    with pytest.raises(ValueError, match="allowed values: fc, cnn"):
        deep_run_flops("rnn", (1, 8, 8), deep, 1)

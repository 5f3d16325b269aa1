import copy
import os
from pathlib import Path

import pytest
import yaml

from earlylin.config import ConfigError, validate_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def _config():
    with open(ROOT / "config" / "config.yaml") as fh:
        return yaml.safe_load(fh)


def test_shipped_configs_are_valid():
    config = _config()
    validate_config(config, SCHEMA)
    assert config["fig1"]["chunk_rows"] is None  # default filled
    with open(ROOT / "config" / "preview.yaml") as fh:
        preview = yaml.safe_load(fh)
    merged = copy.deepcopy(config)
    for key, value in preview.items():
        if isinstance(value, dict):
            merged[key].update(value)
        else:
            merged[key] = value
    validate_config(merged, SCHEMA)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda c: c["fig1"].update(activation="swish"), r"'fig1.activation' = 'swish' is not allowed; allowed values: erf, relu, leaky_relu"),
        (lambda c: c["fig1"].update(width=0), r"'fig1.width' = 0 is out of range; it must be >= 2"),
        (lambda c: c["fig1"].update(width=-4), r"'fig1.width' = -4 is out of range"),
        (lambda c: c["fig1"].update(width=7), r"'fig1.width' = 7 must be a multiple of 2"),
        (lambda c: c["fig1"].update(lr="fast"), r"'fig1.lr' = 'fast' has the wrong type; it must be a\(n\) number"),
        (lambda c: c["fig1"].update(n_train="1e4"), r"'fig1.n_train' = '1e4' has the wrong type; it must be a\(n\) integer"),
        (lambda c: c["fig1"].update(learning_rate=0.1), r"unknown config key\(s\) 'learning_rate' under 'fig1'; allowed keys: activation"),
        (lambda c: c.update(figure_one={}), r"unknown config key\(s\) 'figure_one' at the top level"),
        (lambda c: c.update(device="tpu"), r"'device' = 'tpu' is not allowed; allowed values: auto, cpu, cuda"),
        (lambda c: c["fig1"].update(d_sweep=[10, -1]), r"'fig1.d_sweep.1' = -1 is out of range"),
        (lambda c: c["fig1"].update(dtype="float16"), r"allowed values: float32, float64"),
        (lambda c: c["fig5_extra"].update(kernels=["theta3"]), r"'fig5_extra.kernels.0' = 'theta3' is not allowed; allowed values: theta1, theta2, theta"),
        (lambda c: c["fig5"].update(d_values=[50]), r"'fig5.d_values' = \[50\]: \[50\] is too short"),
        (lambda c: c.pop("fig5"), r"lacks a required entry: 'fig5' is a required property"),
        (lambda c: c["regimes"]["lr"].update(second=0), r"'regimes.lr.second' = 0 is out of range; it must be > 0"),
        (lambda c: c["regimes"].update(regimes=["third"]), r"'regimes.regimes.0' = 'third' is not allowed; allowed values: first, second, both"),
        (lambda c: c["regimes"].update(target="xor"), r"'regimes.target' = 'xor' is not allowed; allowed values: norm, teacher"),
        (lambda c: c["fig2"].update(width=101), r"'fig2.width' = 101 must be a multiple of 2"),
        (lambda c: c["deep"].update(fig4=["cifar100"]), r"'deep.fig4' names data set 'cifar100', which 'deep.datasets' does not define; defined: cifar10, cifar10_8x8, mnist"),
        (lambda c: c["deep"]["datasets"]["mnist"].update(source="svhn"), r"'deep.datasets.mnist.source' = 'svhn' is not allowed; allowed values: cifar10, mnist, digits"),
    ],
)
def test_bad_config_names_key_and_fix(edit, expected):
    config = _config()
    edit(config)
    with pytest.raises(ConfigError, match=expected):
        validate_config(config, SCHEMA)

"""The network registry (earlylin.networks.registry): built-ins and a user's own module by file or
import path, one network per seed in any dtype, and a bad model named with its key and fix."""

from __future__ import annotations

import textwrap

import pytest
import torch
from small_networks import SMALL, small_inputs, small_model

from earlylin.kernels.empirical import empirical_ntk
from earlylin.networks.front_door import admit
from earlylin.networks.registry import ModelError, ModelSpec, build_model


@pytest.mark.parametrize("network", sorted(SMALL))
def test_one_seed_is_one_network_in_any_dtype(network):
    wide, shape = small_model(network, seed=3)
    narrow, _ = small_model(network, seed=3, dtype=torch.float32)
    again, _ = small_model(network, seed=3)
    other, _ = small_model(network, seed=4)
    for (name, p), q, r, s in zip(
        wide.named_parameters(), narrow.parameters(), again.parameters(), other.parameters(), strict=True
    ):
        assert q.dtype == torch.float32 and torch.equal(p.to(torch.float32), q), name
        assert torch.equal(p, r) and not torch.equal(p, s), name
    admit(ModelSpec(network, network), wide, small_inputs(shape))


# --- bad input: each message names the model, the key and the fix ----------------------------

BAD_FILES = {
    "syntax.py": "def factory(:\n",
    "raises.py": "def factory(input_shape, generator, width=4):\n    raise RuntimeError('no such width')\n",
    "not_module.py": "def factory(input_shape, generator):\n    return 3\n",
    "no_params.py": "import torch\ndef factory(input_shape, generator):\n    return torch.nn.Flatten()\n",
    "two_outputs.py": "import torch\ndef factory(input_shape):\n    return torch.nn.Linear(input_shape[0], 2)\n",
    "batchnorm.py": textwrap.dedent(
        """\
        import torch
        def factory(input_shape, generator):
            layers = torch.nn.Linear(input_shape[0], 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 1)
            return torch.nn.Sequential(*layers)
        """
    ),
    "wrong_shape.py": "import torch\ndef factory(input_shape, generator):\n    return torch.nn.Linear(3, 1)\n",
    # the input shape under another name: the workflow passes nothing positionally
    "positional.py": "import torch\ndef factory(shape, generator):\n    return torch.nn.Linear(shape[0], 1)\n",
    "nan.py": textwrap.dedent(
        """\
        import torch
        class Bad(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = torch.nn.Parameter(torch.ones(1))
            def forward(self, x):
                return self.w * x.sum(1) / 0.0 * 0.0
        def factory(input_shape, generator):
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
        ("raises.py:factory", {"depth": 3}, "Check models.kwargs (it accepts (input_shape, generator, width=4))"),
        ("fc", {"widht": 3}, "unexpected keyword argument 'widht'"),
        ("not_module.py:factory", {}, "the factory returned a int, not a torch.nn.Module"),
        ("no_params.py:factory", {}, "the module has no trainable parameters"),
        ("two_outputs.py:factory", {}, "returns outputs of shape (4, 2) for a batch of 4 inputs"),
        ("batchnorm.py:factory", {}, "it has 1 BatchNorm layer (1) whose outputs depend on the rest of the batch"),
        ("batchnorm.py:factory", {}, "Choose what they become: models.batch_norm: frozen (the statistics"),
        ("positional.py:factory", {}, "the factory requires 'shape', which models.kwargs does not give"),
        ("positional.py:factory", {}, "by keyword to a factory whose parameters are named input_shape and generator"),
        ("math:pi", {}, "'math' has no callable 'pi'"),
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
        admit(spec, model, torch.randn(4, 6))
    text = str(error.value)
    assert text.startswith(f"model 'mine' (models.network = '{network}'): ")
    assert message in text


def test_a_users_module_by_file_and_by_import_path(tmp_path, monkeypatch):
    """A factory that ignores the generator and uses nn.Linear's own initialisation is still
    one network per seed (torch's global seed is set from it) and leaves the caller's global
    RNG and default dtype as they were."""
    (tmp_path / "mymodels.py").write_text(
        "import torch\n"
        "def mlp(input_shape, generator, hidden=8):\n"
        "    layers = torch.nn.Linear(input_shape[0], hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)\n"
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
    admit(spec, by_file, torch.randn(4, 6))
    assert empirical_ntk(by_file.double(), torch.randn(5, 6, dtype=torch.float64)).shape == (5, 5)

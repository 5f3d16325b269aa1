"""The front door (earlylin.networks.front_door): the networks users write enter the engine
once, checked before any probe, kernel or training; each refused one names its real cause and
fix; each accepted one trains end to end, its outputs in one shape everywhere; an error the
module raises later names the model, its key and the stage."""

from __future__ import annotations

import pytest
import torch
import user_modules
from engine_jobs import IMAGE_SHAPE, tiny_data

from earlylin.networks.front_door import admit
from earlylin.networks.registry import FlatOutput, ModelError, ModelSpec, build_model
from earlylin.training.job import NetworkEntry, TrainingJob
from earlylin.training.run import RunOptions, run

SHAPE = (1, 4, 4)
FILE = f"{user_modules.__file__}:{{}}"


def _spec(name: str) -> ModelSpec:
    return ModelSpec("mine", FILE.format(name), {}, key="models.networks.mine")


def _inputs(n: int = 16) -> torch.Tensor:
    return torch.randn(n, *SHAPE, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", user_modules.ACCEPTED)
def test_the_networks_users_write_pass_and_say_whether_their_outputs_come_as_a_column(name):
    spec = _spec(name)
    assert admit(spec, build_model(spec, SHAPE, 0, torch.float64), _inputs()) is (name == "readout_column")


@pytest.mark.parametrize("name", sorted(user_modules.REFUSED))
def test_each_refused_network_names_its_cause_and_its_fix(name):
    spec = _spec(name)
    with pytest.raises(ModelError) as error:
        admit(spec, build_model(spec, SHAPE, 0, torch.float64), _inputs())
    text = str(error.value)
    assert text.startswith(f"model 'mine' (models.networks.mine.network = '{FILE.format(name)}'): ")
    for words in user_modules.REFUSED[name]:
        assert words in text, (words, text)


@pytest.mark.parametrize("name", user_modules.WITHOUT_LINEARISED)
def test_a_network_without_forward_mode_derivatives_trains_without_its_linearised_network(name):
    spec = _spec(name)
    assert admit(spec, build_model(spec, SHAPE, 0, torch.float64), _inputs(), linearise_key=None) is False
    data = tiny_data(d=16, image_shape=SHAPE)
    result = run(_job(name, linearise=False), data, RunOptions(progress=False, max_cpu_hours=1.0))
    assert set(result.logged.test_outputs) == {"network", "linear"}


def test_a_module_read_as_a_column_gives_one_output_per_input_to_every_consumer():
    spec = _spec("readout_column")
    flat = build_model(spec, SHAPE, 0, torch.float64, flat_output=True)
    column = build_model(spec, SHAPE, 0, torch.float64)
    x = _inputs(5)
    assert isinstance(flat, FlatOutput) and flat(x).shape == (5,) and column(x).shape == (5, 1)
    torch.testing.assert_close(flat(x), column(x)[:, 0], rtol=0, atol=0)


def _job(name: str, **changes) -> TrainingJob:
    fields = dict(
        dataset="tiny",
        seed=0,
        network=NetworkEntry("mine", FILE.format(name), {}, "models.networks.mine"),
        lr=user_modules.LR,
        batch_size=16,
        max_step=3,
        steps_per_decade=2,
        dtype="float32",
        linear={"coefficients": "fit", "points": 24, "initialisations": 4},
        linearise=True,
        movement={"steps": [0, 3], "points": 6},
        keys={"lr": "models.networks.mine.lr", "linearise": "models.networks.mine.linearise"},
    )
    return TrainingJob(**{**fields, **changes})


@pytest.mark.parametrize("name", user_modules.ACCEPTED)
def test_every_accepted_network_trains_end_to_end_beside_its_models(name):
    data = tiny_data(d=16, image_shape=SHAPE)
    result = run(_job(name), data, RunOptions(progress=False, max_cpu_hours=1.0))
    outputs = result.logged.test_outputs
    assert set(outputs) == {"network", "linearised", "linear"}
    for model, values in outputs.items():
        assert (
            values.shape == (len(result.logged.steps), len(data.X_test)) and torch.isfinite(torch.tensor(values)).all()
        )
        assert (values[0] == 0).all(), model  # f_0 = 0
    assert len(result.logged.movement) == 2 and result.setup.fit.linear > 0


@pytest.mark.parametrize("name", sorted(user_modules.REFUSED))
def test_a_refused_network_stops_before_the_probe_or_anything_else(name, monkeypatch):
    import earlylin.training.run as run_module

    probed = []
    monkeypatch.setattr(run_module, "estimate_cost", lambda *a, **k: probed.append(1))
    with pytest.raises(ModelError):
        run(_job(name), tiny_data(d=16, image_shape=SHAPE), RunOptions(progress=False, max_cpu_hours=1.0))
    assert not probed


class _FailsLater(torch.nn.Module):
    """Passes the front door on the CPU, then raises in a training step (a batch of 16 rows with
    gradients on): as a module that fails only on some device or dtype would."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(18, 1)

    def forward(self, x):
        if torch.is_grad_enabled() and x.shape[0] == 16 and x.dtype == torch.float32:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return self.lin(x.flatten(1))[:, 0]


def test_an_error_the_module_raises_later_names_the_model_its_key_and_the_stage(local_networks):  # noqa: F811
    name = local_networks("later", lambda input_shape, generator: _FailsLater())
    job = _job("later", network=NetworkEntry("mine", name, {}, "models.networks.mine"), linearise=False, movement=None)
    with pytest.raises(ModelError) as error:
        run(job, tiny_data(d=18, image_shape=IMAGE_SHAPE), RunOptions(progress=False))
    text = str(error.value)
    assert text.startswith(f"model 'mine' (models.networks.mine.network = '{name}'): training (on cpu, float32)")
    assert "raised RuntimeError: CUDA error: an illegal memory access" in text and "models.networks.mine.kwargs" in text


from engine_jobs import local_networks  # noqa: E402, F401

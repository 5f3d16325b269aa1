"""End-to-end on the CPU: the networks users write, each named in a config as
``nets/user_modules.py:<factory>`` and run by the workflow at preview size. Every accepted one
(a readout nn.Linear(width, 1) with outputs (batch, 1), outputs (batch,), weight sharing, a
frozen layer, a buffer, an attention block, in-place ReLU, an embedding) trains end to end
beside its models; every refused one stops its job with its own message before the cost
probe runs, naming the model, its config key and the fix."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import user_modules
from workflow_runs import snakemake

pytestmark = pytest.mark.workflow

ROOT_NAME = "front"
TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "ntk_entries", "movement")


def _config_name(factory: str) -> str:
    return factory.replace("_", "")  # models.networks names are letters and digits


@pytest.fixture(scope="module")
def front(workdir):
    """One run of every user module (keep-going: the refused jobs fail, the others finish)."""
    (workdir / "nets").mkdir(exist_ok=True)
    shutil.copy(user_modules.__file__, workdir / "nets" / "user_modules.py")
    factories = [*user_modules.ACCEPTED, *user_modules.REFUSED]
    networks = "".join(
        f"    {_config_name(f)}: {{network: 'nets/user_modules.py:{f}', lr: {user_modules.LR}}}\n" for f in factories
    )
    (workdir / "front.yaml").write_text(
        f"results_dir: results/{ROOT_NAME}\n"
        "models:\n"
        "  networks:\n"
        f"{networks}"
        f"  train: [{', '.join(_config_name(f) for f in factories)}]\n"
        "  max_step: 20\n"
        "  kernel_initialisations: 4\n"
        "  movement_steps: [0, 20]\n"
    )
    targets = [f"results/{ROOT_NAME}/any_network/mnist01_7x7/{_config_name(f)}_seed0_losses.parquet" for f in factories]
    proc = snakemake(workdir, *targets, overlays=["front.yaml"], check=False, timeout=1500)
    return workdir / "results" / ROOT_NAME, proc


def _log(out, factory):
    return (out / "logs" / "train_any_network" / f"mnist01_7x7_{_config_name(factory)}_seed0.log").read_text()


@pytest.mark.parametrize("factory", user_modules.ACCEPTED)
def test_every_accepted_network_trains_end_to_end(front, factory):
    out, _ = front
    tables = {
        t: pd.read_parquet(out / "any_network" / "mnist01_7x7" / f"{_config_name(factory)}_seed0_{t}.parquet")
        for t in TABLES
    }
    assert set(tables["losses"]["model"]) == {"network", "linearised", "linear"}
    assert tables["outputs"]["output"].notna().all()
    assert tables["kernel_fit"]["model_linear"].iloc[0] > 0
    assert "estimated" in _log(out, factory)  # the probe ran after the front door let it in


@pytest.mark.parametrize("factory", sorted(user_modules.REFUSED))
def test_every_refused_network_stops_with_its_message_before_the_probe(front, factory):
    out, proc = front
    assert proc.returncode != 0
    log = _log(out, factory)
    name = _config_name(factory)
    assert f"model '{name}' (models.networks.{name}.network = 'nets/user_modules.py:{factory}')" in log
    for words in user_modules.REFUSED[factory]:
        assert words in log, words
    assert "estimated" not in log and "Traceback" in log  # refused before any probe; its traceback stays in the log
    assert not list((out / "any_network" / "mnist01_7x7").glob(f"{name}_seed0_*"))  # no half-written tables

"""End-to-end on the CPU: the networks users write, each named in a config as
``nets/user_modules.py:<factory>`` and run by the workflow at preview size. Every accepted one
(a readout nn.Linear(width, 1) with outputs (batch, 1), outputs (batch,), weight sharing, a
frozen layer, a buffer, an attention block, in-place ReLU, an embedding) trains end to end
beside its models; every refused one stops its job with its own message before the cost
probe runs, naming the model, its config key and the fix. The BatchNorm network that is refused
without a choice trains with ``batch_norm: frozen`` and with ``group``, and torchvision's
ResNet-18 by name (GroupNorm, grey images repeated to 3 channels, ``lr: auto``)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import user_modules
from workflow_runs import snakemake

pytestmark = pytest.mark.workflow

ROOT_NAME = "front"
TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "ntk_entries", "movement")
# config name -> batch_norm choice of the BatchNorm network that is refused without one
BATCH_NORM_CHOICES = {"batchnormfrozen": "frozen", "batchnormgroup": "group"}


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
    networks += "".join(
        f"    {name}: {{network: 'nets/user_modules.py:batchnorm', lr: {user_modules.LR}, batch_norm: {choice}}}\n"
        for name, choice in BATCH_NORM_CHOICES.items()
    )
    networks += (
        "    resnet18: {network: 'torchvision.models:resnet18', outputs_argument: num_classes, lr: auto, "
        "batch_norm: group, input: {channels: 3}}\n"
    )
    names = [*map(_config_name, factories), *BATCH_NORM_CHOICES, "resnet18"]
    (workdir / "front.yaml").write_text(
        f"results_dir: results/{ROOT_NAME}\n"
        "models:\n"
        "  networks:\n"
        f"{networks}"
        f"  train: [{', '.join(names)}]\n"
        "  max_step: 20\n"
        "  kernel_initialisations: 4\n"
        "  movement_steps: [0, 20]\n"
    )
    targets = [f"results/{ROOT_NAME}/any_network/mnist01_7x7/{name}_seed0_losses.parquet" for name in names]
    proc = snakemake(workdir, *targets, overlays=["front.yaml"], check=False, timeout=1500)
    return workdir / "results" / ROOT_NAME, proc


def _log(out, factory):
    return (out / "logs" / "train_any_network" / f"mnist01_7x7_{_config_name(factory)}_seed0.log").read_text()


def _tables(out, name):
    return {t: pd.read_parquet(out / "any_network" / "mnist01_7x7" / f"{name}_seed0_{t}.parquet") for t in TABLES}


@pytest.mark.parametrize("name", [*BATCH_NORM_CHOICES, "resnet18"])
def test_batch_norm_networks_train_with_either_choice_and_resnet18_by_name(front, name):
    out, _ = front
    tables = _tables(out, name)
    assert set(tables["losses"]["model"]) == {"network", "linearised", "linear"}
    assert tables["outputs"]["output"].notna().all() and tables["kernel_fit"]["model_linear"].iloc[0] > 0
    fit = tables["kernel_fit"].iloc[0]
    if name == "resnet18":  # lr: auto: half the linear model's largest stable rate on the first minibatch
        assert fit["lr"] == pytest.approx(0.5 * 2 / fit["lambda_max"], rel=1e-12)
        assert "(lr: auto)" in _log(out, "resnet18")
    else:
        assert fit["lr"] == user_modules.LR and pd.isna(fit["lambda_max"])


@pytest.mark.parametrize("factory", user_modules.ACCEPTED)
def test_every_accepted_network_trains_end_to_end(front, factory):
    out, _ = front
    tables = _tables(out, _config_name(factory))
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

import numpy as np
import pytest
import torch
from workflow_runs import copy_workflow, snakemake


def pytest_collection_modifyitems(items):
    """Every workflow test is a slow test too."""
    for item in items:
        if item.get_closest_marker("workflow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _single_thread():
    torch.set_num_threads(1)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    """A copy of the workflow in which the preview config ran `figures` once; shared by
    every workflow test module (the preview is the expensive part)."""
    work = copy_workflow(tmp_path_factory.mktemp("workflow"))
    snakemake(work, "figures")
    return work

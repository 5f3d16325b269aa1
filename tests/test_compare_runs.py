"""benchmarks/compare_runs.py, the old-against-new comparison of result tables: its verdicts on
hand-made tables and the renamed result folders it maps."""

import importlib.util

import numpy as np
import pandas as pd
from workflow_runs import ROOT

_spec = importlib.util.spec_from_file_location("compare_runs", ROOT / "benchmarks" / "compare_runs.py")
compare_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_runs)


def _write(folder, name, frame):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


def _table(loss=(0.5, 0.25), seconds=(1.0, 2.0)):
    return pd.DataFrame({"step": [0, 1], "model": ["network", "linear"], "loss": loss, "seconds_train": seconds})


def test_verdicts(tmp_path):
    old = _write(tmp_path / "old", "t.parquet", _table())
    cases = {
        "same.parquet": (_table(seconds=(9.0, 9.0)), ("bitwise", 0.0, 0.0)),  # wall-clock columns are ignored
        "round.parquet": (_table(loss=(0.5, 0.25 * (1 + 1e-12))), ("rounding", 0.25e-12, 1e-12)),
    }
    for name, (frame, (verdict, worst_abs, worst_rel)) in cases.items():
        got = compare_runs.compare_file(old, _write(tmp_path / "new", name, frame))
        assert (
            got[0] == verdict and np.isclose(got[1], worst_abs, rtol=1e-3) and np.isclose(got[2], worst_rel, rtol=1e-3)
        )
    renamed = _table().rename(columns={"loss": "value"})
    assert compare_runs.compare_file(old, _write(tmp_path / "new", "cols.parquet", renamed))[0] == "differs"
    nan = _table(loss=(0.5, np.nan))
    assert compare_runs.compare_file(old, _write(tmp_path / "new", "nan.parquet", nan))[0] == "differs"
    labels = _table().assign(model=["network", "kernel"])
    assert compare_runs.compare_file(old, _write(tmp_path / "new", "labels.parquet", labels))[0] == "differs"


def test_compare_folders_maps_renamed_folders_and_fails_on_a_difference(tmp_path, capsys):
    _write(tmp_path / "old", "models/mnist/fc_seed0_losses.parquet", _table())
    _write(tmp_path / "old", "data/mnist/logistic_seed0_signs.parquet", _table())
    _write(tmp_path / "new", "any_network/mnist/fc_seed0_losses.parquet", _table())
    _write(tmp_path / "new", "any_data/mnist/logistic_seed0_signs.parquet", _table())
    assert compare_runs.compare(tmp_path / "old", tmp_path / "new", rtol=1e-6) == 0
    assert "2 bitwise" in capsys.readouterr().out
    _write(tmp_path / "new", "any_data/mnist/logistic_seed0_signs.parquet", _table(loss=(0.5, 0.3)))
    assert compare_runs.compare(tmp_path / "old", tmp_path / "new", rtol=1e-6) == 1
    (tmp_path / "new" / "any_network" / "mnist" / "fc_seed0_losses.parquet").unlink()
    assert compare_runs.compare(tmp_path / "old", tmp_path / "new", rtol=1e-6) == 1
    assert "1 missing" in capsys.readouterr().out
    assert compare_runs.compare(tmp_path / "old", tmp_path / "new", rtol=1e-6, exclude="^data/") == 1  # missing
    _write(tmp_path / "new", "any_network/mnist/fc_seed0_losses.parquet", _table())
    assert (
        compare_runs.compare(tmp_path / "old", tmp_path / "new", rtol=1e-6, exclude="^data/") == 0
    )  # the differing one skipped
    assert (
        compare_runs.compare(tmp_path / "old", tmp_path / "new", rtol=1e-6, exclude="^(models|data)/") == 1
    )  # nothing compared


def test_new_names_of_the_renamed_folders_in_the_preview_too():
    cases = {
        "models/mnist/fc_seed0_losses.parquet": "any_network/mnist/fc_seed0_losses.parquet",
        "preview/models/mnist/fc_seed0_losses.parquet": "preview/any_network/mnist/fc_seed0_losses.parquet",
        "preview/data/digits/mse_seed0_signs.parquet": "preview/any_data/digits/mse_seed0_signs.parquet",
        "preview/deep/data/mnist_seed1.npz": "preview/images/mnist_seed1.npz",
        "data/teacher_d8_seed0.npz": "fig1/data_d8_seed0.npz",
        "preview/deep/mnist/fc_seed0_losses.parquet": "preview/deep/mnist/fc_seed0_losses.parquet",
    }
    assert {old: compare_runs.new_name(old) for old in cases} == cases

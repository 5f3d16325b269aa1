import os
import shlex
import stat

import numpy as np
import pandas as pd
import pytest

from earlylin.core.metrics import half_mse, logged_steps, output_mse
from earlylin.core.seeds import rng_stream
from earlylin.core.tables import (
    CorruptInputError,
    atomic_path,
    current_umask,
    output_rows,
    outputs_matrix,
    read_meta,
    read_npz,
    read_table,
    write_table,
)
from earlylin.data.dataset import Dataset
from earlylin.data.synthetic import teacher_dataset


def test_teacher_dataset_is_deterministic_and_balanced():
    a = teacher_dataset(d=12, n_train=3000, n_test=500, teacher_width=5, seed=3)
    b = teacher_dataset(d=12, n_train=3000, n_test=500, teacher_width=5, seed=3)
    c = teacher_dataset(d=12, n_train=3000, n_test=500, teacher_width=5, seed=4)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)
    assert a.X_train.shape == (3000, 12) and a.X_test.shape == (500, 12)
    assert set(np.unique(a.y_train)) == {-1.0, 1.0}
    assert 0.2 < (a.y_train > 0).mean() < 0.8
    assert abs(a.X_train.mean()) < 0.05 and abs(a.X_train.var() - 1) < 0.05


def test_test_set_size_does_not_change_training_draws():
    a = teacher_dataset(d=5, n_train=100, n_test=10, teacher_width=5, seed=0)
    b = teacher_dataset(d=5, n_train=100, n_test=50, teacher_width=5, seed=0)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)


def test_rng_streams_are_independent_per_purpose():
    x = rng_stream(0, "a", 1).standard_normal(5)
    assert not np.array_equal(x, rng_stream(0, "b", 1).standard_normal(5))
    assert not np.array_equal(x, rng_stream(0, "a", 2).standard_normal(5))
    np.testing.assert_array_equal(x, rng_stream(0, "a", 1).standard_normal(5))


def test_dataset_round_trip(tmp_path):
    data = teacher_dataset(d=3, n_train=10, n_test=4, teacher_width=2, seed=1)
    data.save(tmp_path / "x.npz")
    back = Dataset.load(tmp_path / "x.npz")
    np.testing.assert_array_equal(back.X_test, data.X_test)
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]


def test_logged_steps():
    steps = logged_steps(10_000, 10)
    assert steps[0] == 0 and steps[1] == 1 and steps[-1] == 10_000
    assert np.all(np.diff(steps) > 0)
    assert 30 <= len(steps) <= 42


def test_metrics():
    assert half_mse(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == pytest.approx(2.5)
    np.testing.assert_allclose(output_mse(np.ones((2, 4)), np.zeros((2, 4))), [1.0, 1.0])


def test_table_round_trip_with_metadata(tmp_path):
    out = np.arange(6.0).reshape(2, 3)
    df = output_rows("network", np.array([0, 5]), out)
    write_table(df, tmp_path / "t.parquet", {"lr": 0.5, "steps": np.array([0, 5])})
    back = read_table(tmp_path / "t.parquet", ("model", "step", "sample", "output"))
    steps, matrix = outputs_matrix(back)
    np.testing.assert_array_equal(steps, [0, 5])
    np.testing.assert_array_equal(matrix, out)
    assert read_meta(tmp_path / "t.parquet") == {"lr": 0.5, "steps": [0, 5]}
    with pytest.raises(ValueError, match="lacks columns"):
        read_table(tmp_path / "t.parquet", ("value",))


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "sub" / "t.parquet"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            pd.DataFrame({"a": [1]}).to_parquet(tmp)
            raise RuntimeError("killed mid-write")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


# --- file modes: outputs follow the umask, not mkstemp's 0o600 ---


@pytest.fixture
def umask():
    """Set the process umask for one test; the old one comes back afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_outputs_get_the_mode_the_umask_gives(tmp_path, umask, mask, expected):
    umask(mask)
    assert current_umask() == mask
    write_table(pd.DataFrame({"a": [1, 2]}), tmp_path / "t.parquet")
    teacher_dataset(d=3, n_train=10, n_test=4, teacher_width=2, seed=1).save(tmp_path / "x.npz")
    with atomic_path(tmp_path / "figure.png") as tmp, open(tmp, "wb") as fh:
        fh.write(b"png")
    for name in ("t.parquet", "x.npz", "figure.png"):
        assert _mode(tmp_path / name) == expected, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png", "t.parquet", "x.npz"]


def test_writer_that_recreates_the_file_still_gets_the_mode(tmp_path, umask):
    umask(0o022)
    with atomic_path(tmp_path / "t.bin") as tmp:
        os.unlink(tmp)  # e.g. a library that writes a new file at the path
        with open(tmp, "wb") as fh:
            fh.write(b"x")
        os.chmod(tmp, 0o600)
    assert _mode(tmp_path / "t.bin") == 0o644


# --- corrupt inputs: a clear error naming the file and the rm that lets snakemake redo it ---


def _truncate_half(path):
    os.truncate(path, os.path.getsize(path) // 2)


def _assert_corrupt_message(error: CorruptInputError, path, reason: str):
    message = str(error)
    assert str(path) in message and reason in message
    assert "delete it and rerun snakemake" in message
    assert f"rm {shlex.quote(str(path))}" in message
    assert isinstance(error, ValueError) and error.path == str(path)


def test_truncated_npz_names_file_and_fix(tmp_path):
    path = tmp_path / "data dir" / "teacher_d3_seed1.npz"  # a space, to check the quoting of rm
    teacher_dataset(d=3, n_train=200, n_test=40, teacher_width=2, seed=1).save(path)
    _truncate_half(path)
    with pytest.raises(CorruptInputError) as info:
        Dataset.load(path)
    _assert_corrupt_message(info.value, path, "BadZipFile")
    assert "\n  rm '" in str(info.value)


@pytest.mark.parametrize("cut", [1, 30, 200])
def test_npz_cut_anywhere_is_corrupt(tmp_path, cut):
    path = tmp_path / "x.npz"
    teacher_dataset(d=3, n_train=200, n_test=40, teacher_width=2, seed=1).save(path)
    os.truncate(path, os.path.getsize(path) - cut)
    with pytest.raises(CorruptInputError, match="x.npz"):
        Dataset.load(path)


def test_empty_or_wrong_npz_is_corrupt(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(CorruptInputError, match="empty.npz"):
        Dataset.load(tmp_path / "empty.npz")
    np.savez(tmp_path / "other.npz", X_train=np.zeros((2, 2)))
    with pytest.raises(CorruptInputError, match=r"lacks the arrays \['y_train', 'X_test', 'y_test'\]"):
        Dataset.load(tmp_path / "other.npz")
    with open(tmp_path / "single.npz", "wb") as fh:
        np.save(fh, np.zeros(3))
    with pytest.raises(CorruptInputError, match="not an .npz archive"):
        read_npz(tmp_path / "single.npz")


def test_truncated_parquet_names_file_and_fix(tmp_path):
    path = tmp_path / "t.parquet"
    write_table(pd.DataFrame({"a": np.arange(1000)}), path, {"lr": 0.5})
    _truncate_half(path)
    for read in (read_table, read_meta):
        with pytest.raises(CorruptInputError) as info:
            read(path)
        _assert_corrupt_message(info.value, path, "ArrowInvalid")
        assert "\n" not in str(info.value).split("\n  rm ")[0]  # the cause on one line


def test_missing_inputs_raise_file_not_found(tmp_path):
    for read in (Dataset.load, read_npz, read_table, read_meta):
        path = tmp_path / "absent.file"
        with pytest.raises(FileNotFoundError) as info:
            read(path)
        assert not isinstance(info.value, CorruptInputError) and "absent.file" in str(info.value)


def test_corrupt_input_error_pickles(tmp_path):
    import pickle

    error = CorruptInputError(tmp_path / "x.npz", "npz", EOFError("short read"))
    back = pickle.loads(pickle.dumps(error))
    assert str(back) == str(error) and back.path == error.path


def test_a_rule_script_moves_a_corrupt_input_aside_and_gives_one_instruction(tmp_path):
    from earlylin.core.runtime import _set_corrupt_input_aside

    path = tmp_path / "teacher_d3_seed1.npz"
    path.write_bytes(b"not an npz archive")
    with pytest.raises(CorruptInputError) as info:
        Dataset.load(path)
    seen = []
    hook = _set_corrupt_input_aside(lambda kind, error, traceback: seen.append(str(error)))
    hook(CorruptInputError, info.value, None)
    assert not path.exists() and path.with_name(path.name + ".corrupt").exists()
    (message,) = seen
    assert f"cannot read npz file {path}" in message and f"moved aside to {path}.corrupt" in message
    assert "run snakemake again and it regenerates the file" in message and "rm " not in message

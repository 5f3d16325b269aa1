import numpy as np
import pandas as pd
import pytest

from earlylin.data import Dataset, rng_stream, teacher_dataset
from earlylin.metrics import half_mse, logged_steps, output_mse
from earlylin.tables import (
    atomic_path,
    output_rows,
    outputs_matrix,
    read_meta,
    read_table,
    write_table,
)


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

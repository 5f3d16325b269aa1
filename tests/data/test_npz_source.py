"""The user's own images (source npz): good files in every accepted form, and every bad file
refused with a message that says what is wrong and how to fix it, before any job."""

import numpy as np
import pytest

from earlylin.core.seeds import rng_stream
from earlylin.data.images import image_dataset, preprocess_images
from earlylin.data.npz_source import NpzSourceError, load_npz_images, npz_summary
from earlylin.experiments.image_sets import dataset_label, dataset_problems, pooled_shape


def _images(n=40, shape=(1, 8, 8), seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, *shape)).astype(np.uint8), np.arange(n) % 3


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_a_file_without_a_test_split_is_one_pooled_draw(tmp_path):
    images, labels = _images()
    path = _write(tmp_path / "own.npz", images=images, labels=labels)
    summary = npz_summary(path)
    assert summary.image_shape == (1, 8, 8) and summary.counts == {"pooled": {0: 14, 1: 13, 2: 13}}
    data = image_dataset("npz", path, (2, 0), 20, 7, 2, rng_stream(0, "image-subset", 2, 0))
    assert data.X_train.shape == (20, 16) and data.X_test.shape == (7, 16) and data.image_shape == (1, 4, 4)
    # every row is one of the file's images of classes 2 and 0, pooled and normalised, with its label
    expected, _ = preprocess_images(images, 2)
    for row, label in zip(np.vstack([data.X_train, data.X_test]), np.concatenate([data.y_train, data.y_test])):
        match = np.flatnonzero(np.all(np.isclose(expected, row), axis=1))
        assert match.size == 1 and labels[match[0]] == (2 if label == 1 else 0)


def test_a_file_with_a_test_split_draws_from_each(tmp_path):
    images, labels = _images(30, (3, 4, 4))
    test_images, test_labels = _images(12, (3, 4, 4), seed=1)
    path = _write(tmp_path / "own.npz", images=images, labels=labels, test_images=test_images, test_labels=test_labels)
    assert npz_summary(path).counts == {"train": {0: 10, 1: 10, 2: 10}, "test": {0: 4, 1: 4, 2: 4}}
    data = image_dataset("npz", path, (0, 1), 20, 8, 1, rng_stream(0, "image-subset", 0, 1))
    assert data.X_test.shape == (8, 48)
    test_rows, _ = preprocess_images(test_images, 1)
    assert all(np.any(np.all(np.isclose(test_rows, row), axis=1)) for row in data.X_test)


@pytest.mark.parametrize(
    ("images", "shape"),
    [(np.ones((6, 5, 4)), (1, 5, 4)), (np.ones((6, 10)), (1, 1, 10)), (np.ones((6, 2, 3, 3), np.float32), (2, 3, 3))],
    ids=["one-channel", "flat", "float32"],
)
def test_images_of_every_accepted_form(tmp_path, images, shape):
    path = _write(tmp_path / "own.npz", images=images, labels=np.array([0, 1] * 3))
    assert npz_summary(path).image_shape == shape
    (loaded, labels), test = load_npz_images(path)
    assert loaded.shape == (6, *shape) and labels.dtype == np.int64 and test is None


def _bad_files():
    images, labels = _images(10)
    nan = images.astype(np.float64)
    nan[3, 0, 2, 2] = np.nan
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = np.ones((8, 8)), np.ones((7, 7))
    return {
        "missing labels": (dict(images=images), "has no array 'labels'; it holds 'images'"),
        "no arrays": (dict(), "has no array 'images' or 'labels'; it holds no arrays"),
        "labels per image": (dict(images=images, labels=labels[:7]), "give one label per image, shape (10,)"),
        "float labels": (dict(images=images, labels=labels * 1.0), "non-negative integer class labels"),
        "negative labels": (dict(images=images, labels=labels - 1), "with minimum -1"),
        "one class": (dict(images=images, labels=np.zeros(10, int)), "fewer than two classes ([0])"),
        "object images": (dict(images=ragged, labels=np.array([0, 1])), "holds Python objects (images of different"),
        "rank 5": (dict(images=images[:, None], labels=labels), "expected non-empty (N, C, H, W)"),
        "text images": (dict(images=np.array(["a", "b"]), labels=np.array([0, 1])), "images need a real dtype"),
        "half a test split": (dict(images=images, labels=labels, test_images=images), "but no 'test_labels'"),
        "test images of another shape": (
            dict(images=images, labels=labels, test_images=images[:, :, :4], test_labels=labels),
            "images of different shapes cannot form one data set",
        ),
    }


@pytest.mark.parametrize("case", list(_bad_files()))
def test_a_bad_file_is_refused_with_what_to_do(tmp_path, case):
    arrays, message = _bad_files()[case]
    path = tmp_path / "own.npz"
    if case == "object images":
        np.savez(path, **arrays)  # np.savez pickles object arrays; the reader refuses them
    else:
        _write(path, **arrays)
    with pytest.raises(NpzSourceError, match=None) as error:
        npz_summary(path)
    assert message in str(error.value)


def test_non_finite_images_are_refused_when_the_images_are_read(tmp_path):
    images, labels = _images(10)
    images = images.astype(np.float64)
    images[[3, 7], 0, 2, 2] = [np.nan, np.inf]
    path = _write(tmp_path / "own.npz", images=images, labels=labels)
    with pytest.raises(NpzSourceError, match=r"2 image\(s\) of 'images' hold non-finite values .* indices \[3, 7\]"):
        load_npz_images(path)


def test_a_missing_file_and_a_file_that_is_not_npz(tmp_path):
    with pytest.raises(NpzSourceError, match="does not exist .* write it with np.savez"):
        npz_summary(tmp_path / "gone.npz")
    (tmp_path / "text.npz").write_text("images, labels\n")
    with pytest.raises(NpzSourceError, match="is not an .npz file"):
        npz_summary(tmp_path / "text.npz")


def _deep(file, **entry):
    dataset = {"source": "npz", "path": str(file), "classes": [0, 2], "pool": 2, **entry}
    return {"n_train": 20, "n_test": 6, "batch_size": 10, "datasets": {"own": dataset}}


def test_a_good_npz_data_set_passes_the_config_check_and_has_its_shape_and_label(tmp_path):
    path = _write(tmp_path / "own.npz", images=_images()[0], labels=_images()[1])
    deep = _deep(path)
    assert dataset_problems(deep, "own") == []
    assert pooled_shape(deep["datasets"]["own"]) == (1, 4, 4)
    assert dataset_label(deep, "own") == "own (npz 0 vs 2, 4x4, n = 20 / 6)"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (dict(path=None), "config key 'deep.datasets.own.path' is missing: source npz reads the .npz file it names"),
        (dict(path="gone.npz"), "config key 'deep.datasets.own.path' = 'gone.npz': the file 'gone.npz' does not exist"),
        (
            dict(classes=[0, 5]),
            "'deep.datasets.own.classes' = [0, 5]: class 5 does not occur in source npz; its labels: 0..2",
        ),
        (dict(n_train=25), "source npz has 27 images of classes 0 and 2 (14 + 13) for train and test together"),
        (dict(pool=3), "'deep.datasets.own.pool' = 3 does not divide the 8 x 8 images of npz; allowed: 1, 2, 4, 8"),
        (dict(source="digits"), "config key 'deep.datasets.own.path' is set, but source digits reads no file"),
    ],
    ids=["no path", "no file", "no such class", "too few images", "pool", "path of a built-in"],
)
def test_a_bad_npz_data_set_is_named_in_the_config_check(tmp_path, monkeypatch, entry, message):
    monkeypatch.chdir(tmp_path)
    images, labels = _images()
    path = _write(tmp_path / "own.npz", images=images, labels=labels)
    deep = _deep(path, **entry)
    if entry.get("path", "") is None:
        del deep["datasets"]["own"]["path"]
    problems = dataset_problems(deep, "own")
    assert len(problems) == 1 and message in problems[0], problems


# Three classes of the user's own images: labels 0..2 in the order of ``classes``, a class-balanced
# draw, and every class checked against its share.


def test_three_classes_of_a_file_without_a_test_split_are_drawn_class_balanced(tmp_path):
    images, labels = _images()  # 14, 13 and 13 images of labels 0, 1, 2
    path = _write(tmp_path / "own.npz", images=images, labels=labels)
    data = image_dataset("npz", path, (2, 0, 1), 20, 7, 1, rng_stream(0, "image-subset", 2, 0, 1))
    assert np.bincount(data.y_train.astype(int)).tolist() == [7, 7, 6]
    assert np.bincount(data.y_test.astype(int)).tolist() == [3, 2, 2]
    expected, _ = preprocess_images(images, 1)
    drawn = []
    for row, label in zip(np.vstack([data.X_train, data.X_test]), np.concatenate([data.y_train, data.y_test])):
        match = np.flatnonzero(np.all(np.isclose(expected, row), axis=1))
        assert match.size == 1 and labels[match[0]] == (2, 0, 1)[int(label)]
        drawn.append(match[0])
    assert len(set(drawn)) == 27  # train and test disjoint


def test_three_classes_of_a_file_with_a_test_split_draw_their_shares_from_each(tmp_path):
    images, labels = _images(30, (1, 4, 4))
    test_images, test_labels = _images(12, (1, 4, 4), seed=1)
    path = _write(tmp_path / "own.npz", images=images, labels=labels, test_images=test_images, test_labels=test_labels)
    deep = _deep(path, classes=[1, 0, 2], pool=1, n_train=29, n_test=12)
    assert dataset_problems(deep, "own") == []
    assert dataset_label(deep, "own") == "own (npz labels 0..2 (3 classes), 4x4, n = 29 / 12)"
    data = image_dataset("npz", path, (1, 0, 2), 29, 12, 1, np.random.default_rng(0))
    assert np.bincount(data.y_train.astype(int)).tolist() == [10, 10, 9]
    assert np.bincount(data.y_test.astype(int)).tolist() == [4, 4, 4]
    test_rows, _ = preprocess_images(test_images, 1)
    for row, label in zip(data.X_test, data.y_test):
        match = np.flatnonzero(np.all(np.isclose(test_rows, row), axis=1))
        assert match.size == 1 and test_labels[match[0]] == (1, 0, 2)[int(label)]


@pytest.mark.parametrize(
    ("test_split", "entry", "message"),
    [
        (
            False,
            dict(classes=[2, 0, 1], n_train=30, n_test=10),  # shares 10 + 4, 10 + 3, 10 + 3 of 13, 14, 13
            "config key 'deep.datasets.own': class 2 of source npz holds 13 images, but a class-balanced draw of "
            "n_train + n_test = 40 images over 3 classes takes 14 of it; lower n_train / n_test (now from "
            "'deep.datasets.own.n_train' and 'deep.datasets.own.n_test') so that each class's share is at most 13",
        ),
        (
            True,
            dict(classes=[0, 1, 2], n_train=30, n_test=13),  # test shares 5, 4, 4 of 4 each
            "config key 'deep.datasets.own': class 0 of the test split of npz holds 4 images, but a class-balanced "
            "draw of n_test = 13 images over 3 classes takes 5 of it; lower n_test (now from "
            "'deep.datasets.own.n_test') so that each class's share is at most 4",
        ),
        (
            True,
            dict(classes=[0, 1, 2], n_test=12),  # n_train from the section: 20, fits; n_train = 31 would not
            None,
        ),
        (
            False,
            dict(classes=[0, 1, 2, 3]),
            "config key 'deep.datasets.own.classes' = [0, 1, 2, 3]: class 3 does not occur in source npz; "
            "its labels: 0..2",
        ),
    ],
    ids=["pooled-share", "test-share", "fits", "no such class"],
)
def test_each_of_three_classes_is_checked_against_its_share(tmp_path, test_split, entry, message):
    images, labels = _images(30 if test_split else 40, (1, 8, 8))
    arrays = dict(images=images, labels=labels)
    if test_split:
        arrays.update(zip(("test_images", "test_labels"), _images(12, (1, 8, 8), seed=1)))
    deep = _deep(_write(tmp_path / "own.npz", **arrays), **entry)
    assert dataset_problems(deep, "own") == ([message] if message else [])

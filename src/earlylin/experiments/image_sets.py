"""The image data sets of ``deep.datasets`` (two classes, labels +-1, or k > 2 classes, labels
0..k-1, drawn class-balanced: ``data.images.class_subset``), shared by Figures 3-4, fig_models
and fig_data: each entry's settings with the section's defaults, its image shape after pooling,
its title, and the checks that refuse a data set before any job (a file that cannot be read,
a class its source lacks, more images than its classes hold, a pooling that does not divide
the images, more than two classes where a section trains on two). Light (no numpy, no
torch): the Snakefile uses it while it parses; a data set of the user's own images (``source:
npz``) is known from its file's headers and labels (``data.npz_source.npz_summary``, numpy
only, imported when such a data set exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..data.sources import GAUSSIAN, NPZ, SOURCES, TORCHVISION

# The erf teacher of a Gaussian data set: Figure 1's width.
GAUSSIAN_TEACHER_WIDTH = 5
# The deep figures (``deep.FIGURES``): each trains on two classes (labels +-1).
TWO_CLASS_DEEP_FIGURES = ("fig3", "fig4", "fig3_offline")
# What the classes of a source are called in a data set's title (default: labels).
CLASS_NOUNS = {"mnist": "digits", "mnist_subset": "digits", "digits": "digits", "svhn": "digits"}
TWO_CLASS_FIX = "this section trains on two classes (labels +-1): name a data set with two classes"


def dataset_entry(deep: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """The entry of ``deep.datasets`` with the section's n_train / n_test filled in."""
    entry = dict(deep["datasets"][dataset])
    entry.setdefault("n_train", deep["n_train"])
    entry.setdefault("n_test", deep["n_test"])
    if entry["source"] == GAUSSIAN:
        entry.setdefault("teacher_width", GAUSSIAN_TEACHER_WIDTH)
    return entry


def source_shape(entry: Mapping[str, Any]) -> tuple[int, int, int]:
    """(C, H, W) of the images of a data set's source, before pooling."""
    if entry["source"] == "npz":
        from ..data.npz_source import npz_summary

        return npz_summary(entry["path"]).image_shape
    return SOURCES[entry["source"]].image_shape


def class_counts(entry: Mapping[str, Any]) -> dict[str, dict[int, int]]:
    """Images per class label of a data set's source: split ("pooled" for a source without a
    test split, else "train" and "test") -> label -> count."""
    if entry["source"] == "npz":
        from ..data.npz_source import npz_summary

        return npz_summary(entry["path"]).counts
    return {split: dict(enumerate(counts)) for split, counts in SOURCES[entry["source"]].class_counts.items()}


def pooled_shape(entry: Mapping[str, Any]) -> tuple[int, int, int]:
    """(C, H, W) of a data set's images after its pooling."""
    channels, height, width = source_shape(entry)
    return channels, height // entry["pool"], width // entry["pool"]


def dataset_input_shape(deep: Mapping[str, Any], name: str) -> tuple[int, ...]:
    """The shape of one input of data set ``name`` as a network sees it: (C, H, W) after
    pooling, (d,) for Gaussian vectors."""
    entry = dataset_entry(deep, name)
    return (int(entry["d"]),) if entry["source"] == GAUSSIAN else pooled_shape(entry)


def normalised(config: Mapping[str, Any], name: str) -> bool:
    """Whether data set ``name``'s inputs have ||x||^2/d = 1 (images normalised per image;
    Gaussian vectors are not)."""
    return config["deep"]["datasets"][name]["source"] != GAUSSIAN


def n_classes(deep: Mapping[str, Any], name: str) -> int:
    """The number of classes of data set ``name``: its ``classes``, 2 for Gaussian vectors
    (labelled +-1 by their teacher)."""
    entry = deep["datasets"][name]
    return 2 if entry["source"] == GAUSSIAN else len(entry.get("classes") or ())


def dataset_label(deep: Mapping[str, Any], name: str) -> str:
    """A data set's row title, from its own settings: name, source, classes, the image size
    after pooling and the image counts, e.g. 'mnist01_7x7 (mnist_subset 0 vs 1, 7x7, n = 400 / 200)',
    'mnist10 (mnist_subset digits 0..9 (10 classes), 7x7, n = 2000 / 1000)'."""
    entry = dataset_entry(deep, name)
    if entry["source"] == GAUSSIAN:
        return (
            f"{name} (x ~ N(0, I_{entry['d']}), sign of an erf teacher of width {entry['teacher_width']}, "
            f"n = {entry['n_train']} / {entry['n_test']})"
        )
    channels, height, width = pooled_shape(entry)
    size = f"{height}x{width}" + (f"x{channels}" if channels > 1 else "")
    classes = entry["classes"]
    if len(classes) == 2:
        first, second = classes
        what = f"{first} vs {second}"
    else:
        what = f"{CLASS_NOUNS.get(entry['source'], 'labels')} {label_ranges(classes)} ({len(classes)} classes)"
    return f"{name} ({entry['source']} {what}, {size}, n = {entry['n_train']} / {entry['n_test']})"


def dataset_problems(deep: Mapping[str, Any], name: str) -> list[str]:
    """Everything wrong with the data set ``name`` of deep.datasets, each naming the key, the
    value and the fix: its file (source npz), its classes and sizes, its pooling, and more
    than two classes where a deep figure (``TWO_CLASS_DEEP_FIGURES``) names it."""
    entry = dataset_entry(deep, name)
    key = f"deep.datasets.{name}"
    if entry["source"] == GAUSSIAN:
        return gaussian_problems(entry, key)
    figures = [f"deep.{figure}" for figure in TWO_CLASS_DEEP_FIGURES if name in (deep.get(figure) or [])]
    binary = [problem for figure in figures for problem in two_class_problems(deep, figure, name)]
    extra = [part for part in ("d", "teacher_width") if part in deep["datasets"][name]]
    if extra:
        return binary + [f"config key '{key}.{extra[0]}' is set, but only source gaussian reads it; remove it"]
    problems = _file_problems(entry, key)
    if problems:
        return binary + problems
    problems = binary + _size_problems(deep, name, entry, key)
    _, height, width = source_shape(entry)
    if height % entry["pool"] or width % entry["pool"]:
        divisors = [k for k in range(1, height + 1) if height % k == 0 and width % k == 0]
        problems.append(
            f"config key '{key}.pool' = {entry['pool']} does not divide the {height} x {width} "
            f"images of {entry['source']}; allowed: {', '.join(map(str, divisors))}"
        )
    return problems


def gaussian_problems(entry: Mapping[str, Any], key: str) -> list[str]:
    """A Gaussian data set has no classes, pooling or file."""
    return [
        f"config key '{key}.{part}' is set, but source gaussian draws vectors labelled by a teacher and reads "
        f"no {part}; remove it"
        for part in ("classes", "pool", "path")
        if part in entry
    ]


def two_class_problems(deep: Mapping[str, Any], key: str, name: str) -> list[str]:
    """A section that trains on two classes (labels +-1; config key ``key``) refuses data set
    ``name`` of deep.datasets when it has more."""
    k = n_classes(deep, name)
    if k <= 2:
        return []
    return [
        f"config key '{key}' names data set {name!r}, which has {k} classes ('deep.datasets.{name}.classes' = "
        f"{list(deep['datasets'][name]['classes'])}); {TWO_CLASS_FIX}"
    ]


def named_dataset_problems(
    deep: Mapping[str, Any],
    key: str,
    names: Iterable[str],
    limits: Mapping[str, int],
    two_classes: bool = True,
) -> list[str]:
    """The data sets a section names (config key ``key``) exist in deep.datasets and hold at
    least each of ``limits`` (config key -> value: a batch, a kernel subset) training images;
    with ``two_classes`` (a section that trains on labels +-1) each has two classes."""
    datasets = deep.get("datasets") or {}
    problems = []
    for name in names:
        if name not in datasets:
            problems.append(
                f"config key '{key}' names data set {name!r}, which 'deep.datasets' does not define; "
                f"defined: {', '.join(sorted(datasets))}"
            )
            continue
        if two_classes:
            problems += two_class_problems(deep, key, name)
        n_train = int(dataset_entry(deep, name)["n_train"])
        problems += [
            f"config key '{limit}' = {value} exceeds the {n_train} training images of data set {name!r} "
            f"(named by '{key}'); lower it to at most {n_train}"
            for limit, value in limits.items()
            if value > n_train
        ]
    return problems


def _file_problems(entry: Mapping[str, Any], key: str) -> list[str]:
    """A data set of source npz names a readable file (``npz_source.npz_summary``); no other names one."""
    if entry["source"] != "npz":
        if "path" in entry:
            return [f"config key '{key}.path' is set, but source {entry['source']} reads no file; remove it"]
        return []
    if "path" not in entry:
        return [f"config key '{key}.path' is missing: source npz reads the .npz file it names"]
    from ..data.npz_source import NpzSourceError, npz_summary

    try:
        npz_summary(entry["path"])
    except NpzSourceError as err:
        return [f"config key '{key}.path' = '{entry['path']}': {err}"]
    return []


def label_ranges(labels: Iterable[int]) -> str:
    """Sorted labels, runs of three or more written as ranges: '0..99' (CIFAR-100), '0, 2, 5..7'."""
    runs: list[list[int]] = []
    for label in sorted(set(labels)):
        if runs and label == runs[-1][-1] + 1:
            runs[-1].append(label)
        else:
            runs.append([label])
    return ", ".join(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs)


def class_shares(n: int, k: int) -> list[int]:
    """The images per class of a class-balanced draw of ``n`` over ``k`` classes, as
    ``data.images.class_shares`` draws them (here without numpy): the first n mod k one more."""
    return [n // k + (i < n % k) for i in range(k)]


def _size_problems(deep: Mapping[str, Any], name: str, entry: Mapping[str, Any], key: str) -> list[str]:
    """Whether every class occurs in the source, and whether the classes hold n_train + n_test
    images (a source without a test split) or n_train training and n_test test images (one
    with): two classes together, each of k > 2 classes its share of the class-balanced draw."""
    counts = class_counts(entry)
    absent = [c for c in entry["classes"] if any(c not in split for split in counts.values())]
    if absent:
        present = sorted(set().union(*counts.values()))
        return [
            f"config key '{key}.classes' = {list(entry['classes'])}: class {absent[0]} does not occur in source "
            f"{entry['source']}"
            + (" (in one of its splits)" if absent[0] in present else "")
            + f"; its labels: {label_ranges(present)}"
        ]
    origin = {
        part: f"'{key}.{part}'" if part in deep["datasets"][name] else f"'deep.{part}'"
        for part in ("n_train", "n_test")
    }
    if len(entry["classes"]) > 2:
        return _share_problems(entry, key, counts, origin)
    first, second = entry["classes"]
    if "pooled" in counts:
        held = counts["pooled"][first] + counts["pooled"][second]
        asked = entry["n_train"] + entry["n_test"]
        if asked <= held:
            return []
        return [
            f"config key '{key}': source {entry['source']} has {held} images of classes {first} and {second} "
            f"({counts['pooled'][first]} + {counts['pooled'][second]}) for train and test together, but n_train + "
            f"n_test = {entry['n_train']} + {entry['n_test']} = {asked}; lower n_train / n_test (now from "
            f"{origin['n_train']} and {origin['n_test']}) so that they sum to at most {held}"
        ]
    problems = []
    for part, split in (("n_train", "train"), ("n_test", "test")):
        held = counts[split][first] + counts[split][second]
        if entry[part] > held:
            problems.append(
                f"config key '{key}': the {split} split of {entry['source']} has {held} images of classes {first} "
                f"and {second}, but {part} = {entry[part]} (from {origin[part]}); lower it to at most {held}"
            )
    return problems


def _share_problems(
    entry: Mapping[str, Any], key: str, counts: Mapping[str, Mapping[int, int]], origin: Mapping[str, str]
) -> list[str]:
    """Each of k > 2 classes holds its share of the class-balanced draw (``class_shares``):
    of n_train + n_test (the sum of its train and test shares) for a source without a test
    split, else of n_train in the train split and of n_test in the test split. One message
    per split, naming the class short of the most images (the first such class on ties)."""
    classes = list(entry["classes"])
    k = len(classes)
    shares = {part: class_shares(entry[part], k) for part in ("n_train", "n_test")}
    checks = (
        [("pooled", ("n_train", "n_test"))] if "pooled" in counts else [("train", ("n_train",)), ("test", ("n_test",))]
    )
    problems = []
    for split, parts in checks:
        need = [sum(shares[part][i] for part in parts) for i in range(k)]
        short = [i for i, c in enumerate(classes) if counts[split][c] < need[i]]
        if not short:
            continue
        i = max(short, key=lambda j: need[j] - counts[split][classes[j]])
        held = counts[split][classes[i]]
        if split == "pooled":
            where = f"class {classes[i]} of source {entry['source']}"
            asked = f"n_train + n_test = {entry['n_train'] + entry['n_test']}"
            fix = f"lower n_train / n_test (now from {origin['n_train']} and {origin['n_test']})"
        else:
            (part,) = parts
            where = f"class {classes[i]} of the {split} split of {entry['source']}"
            asked = f"{part} = {entry[part]}"
            fix = f"lower {part} (now from {origin[part]})"
        problems.append(
            f"config key '{key}': {where} holds {held} images, but a class-balanced draw of {asked} images over "
            f"{k} classes takes {need[i]} of it; {fix} so that each class's share is at most {held}"
        )
    return problems


def image_data_job(deep: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """The job (a plain dict, the rule's params) drawing data set ``dataset``: where its files
    are (deep.data_root for a downloaded source, the file of an npz source, None for the
    bundled ones, so that moving data_root reruns nothing for them), its source, classes,
    pooling and image counts."""
    entry = dataset_entry(deep, dataset)
    kind = SOURCES[entry["source"]].kind
    if kind == GAUSSIAN:
        return {key: entry[key] for key in ("source", "d", "teacher_width", "n_train", "n_test")}
    root = entry["path"] if kind == NPZ else deep["data_root"] if kind == TORCHVISION else None
    return {"root": root, **{key: entry[key] for key in ("source", "classes", "pool", "n_train", "n_test")}}

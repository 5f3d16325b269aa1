import copy
import math

import pytest
import yaml
from snakemake.utils import update_config
from workflow_runs import ROOT

from earlylin.core.config import ConfigError, load_schema, registry_names
from earlylin.experiments.configuration import check_config as validate_config

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def _config():
    with open(ROOT / "config" / "config.yaml") as fh:
        return yaml.safe_load(fh)


def test_shipped_configs_are_valid():
    config = _config()
    validate_config(config, SCHEMA)
    assert config["fig1"]["chunk_rows"] is None  # default filled
    with open(ROOT / "config" / "preview.yaml") as fh:
        preview = yaml.safe_load(fh)
    merged = copy.deepcopy(config)
    update_config(merged, preview)  # as Snakemake merges an overlay: recursively
    validate_config(merged, SCHEMA)


def test_the_worked_example_of_the_docs_is_a_valid_overlay_naming_resnet18_with_its_choices():
    example = yaml.safe_load((ROOT / "examples" / "resnet18.yaml").read_text())
    merged = _config()
    update_config(merged, example)
    validate_config(merged, SCHEMA)
    entry = merged["models"]["networks"]["resnet18"]
    assert entry["network"] == "torchvision.models:resnet18" and entry["batch_norm"] == "frozen"
    assert entry["lr"] == "auto" and merged["models"]["train"] == ["resnet18"] and merged["models"]["seeds"] == [0, 1]


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda c: c["fig1"].update(activation="swish"),
            r"'fig1.activation' = 'swish' is not allowed; allowed values: erf, relu, leaky_relu",
        ),
        (lambda c: c["fig1"].update(width=0), r"'fig1.width' = 0 is out of range; it must be >= 2"),
        (lambda c: c["fig1"].update(width=-4), r"'fig1.width' = -4 is out of range"),
        (lambda c: c["fig1"].update(width=7), r"'fig1.width' = 7 must be a multiple of 2"),
        (lambda c: c["fig1"].update(lr="fast"), r"'fig1.lr' = 'fast' has the wrong type; it must be a number"),
        (
            lambda c: c["fig1"].update(n_train="1e4.5"),
            r"'fig1.n_train' = '1e4.5' has the wrong type; it must be an integer "
            r"\('1e4.5' does not read as a number\)",
        ),
        (
            lambda c: c["fig1"].update(learning_rate=0.1),
            r"unknown config key\(s\) 'learning_rate' under 'fig1'; allowed keys: activation",
        ),
        (lambda c: c.update(figure_one={}), r"unknown config key\(s\) 'figure_one' at the top level"),
        (lambda c: c.update(device="tpu"), r"'device' = 'tpu' is not allowed; allowed values: auto, cpu, cuda"),
        (lambda c: c["fig1"].update(d_sweep=[10, -1]), r"'fig1.d_sweep.1' = -1 is out of range"),
        (lambda c: c["fig1"].update(dtype="float16"), r"allowed values: float32, float64"),
        (
            lambda c: c["fig5_extra"].update(kernels=["theta3"]),
            r"'fig5_extra.kernels.0' = 'theta3' is not allowed; allowed values: theta1, theta2, theta",
        ),
        (lambda c: c["fig5"].update(d_values=[50]), r"'fig5.d_values' = \[50\]: \[50\] is too short"),
        (lambda c: c.pop("fig5"), r"lacks a required entry: 'fig5' is a required property"),
        (lambda c: c["regimes"]["lr"].update(second=0), r"'regimes.lr.second' = 0 is out of range; it must be > 0"),
        (
            lambda c: c["regimes"].update(regimes=["third"]),
            r"'regimes.regimes.0' = 'third' is not allowed; allowed values: first, second, both",
        ),
        (
            lambda c: c["regimes"].update(target="xor"),
            r"'regimes.target' = 'xor' is not allowed; allowed values: norm, teacher",
        ),
        (lambda c: c["fig2"].update(width=101), r"'fig2.width' = 101 must be a multiple of 2"),
        (
            lambda c: c["deep"].update(fig4=["cifar100"]),
            r"'deep.fig4' names data set 'cifar100', which 'deep.datasets' does not define; "
            r"defined: cifar10, cifar10_8x8, digits_3v8, gaussian_256, mnist, mnist_subset_10, mnist_subset_7x7",
        ),
        (
            lambda c: c["deep"]["datasets"]["mnist"].update(source="imagenet"),
            r"'deep.datasets.mnist.source' = 'imagenet' is not allowed; "
            r"allowed values: cifar10, mnist, mnist_subset, digits",
        ),
    ],
)
def test_bad_config_names_key_and_fix(edit, expected):
    config = _config()
    edit(config)
    with pytest.raises(ConfigError, match=expected):
        validate_config(config, SCHEMA)


# --- coercion of values to the schema's types (YAML floats, PyYAML's '1e-3', --config) ---


def _valid(edit):
    config = _config()
    edit(config)
    validate_config(config, SCHEMA)
    return config


def _edited(edit):
    config = _config()
    edit(config)
    return config


def _invalid(edit) -> str:
    config = _config()
    edit(config)
    with pytest.raises(ConfigError) as info:
        validate_config(config, SCHEMA)
    return str(info.value)


def test_whole_floats_become_ints_for_integer_keys():
    config = _valid(lambda c: c["fig1"].update(width=32.0, d=20.0, d_sweep=[10.0, 20.0], chunk_rows=64.0))
    fig1 = config["fig1"]
    assert fig1["width"] == 32 and type(fig1["width"]) is int
    assert type(fig1["d"]) is int and f"d{fig1['d']}" == "d20"  # the file-name wildcard
    assert fig1["d_sweep"] == [10, 20] and all(type(d) is int for d in fig1["d_sweep"])
    assert type(fig1["chunk_rows"]) is int  # type [integer, "null"]
    config = _valid(lambda c: c["deep"]["datasets"]["mnist"].update(pool=2.0, classes=[0.0, 1.0]))
    mnist = config["deep"]["datasets"]["mnist"]  # an additionalProperties schema
    assert type(mnist["pool"]) is int and all(type(c) is int for c in mnist["classes"])


def test_number_keys_keep_floats_and_accept_ints():
    config = _valid(lambda c: (c["fig1"].update(lr=1), c["deep"].update(checkpoint_minutes=2.0)))
    assert config["fig1"]["lr"] == 1 and config["deep"]["checkpoint_minutes"] == 2.0


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda c: c["fig1"].update(width=32.5),
            r"'fig1.width' = 32.5 has the wrong type; it must be an integer \(a whole number; 32.5 is not\)",
        ),
        (
            lambda c: c["fig1"].update(seeds=[0, 1.5]),
            r"'fig1.seeds.1' = 1.5 has the wrong type; it must be an integer",
        ),
        (
            lambda c: c["fig1"].update(chunk_rows=10.5),
            r"'fig1.chunk_rows' = 10.5 has the wrong type; it must be an integer or null",
        ),
        (
            lambda c: c["fig1"].update(n_train="10.5"),
            r"'fig1.n_train' = 10.5 has the wrong type; it must be an integer \(a whole number",
        ),
        (
            lambda c: c["deep"]["datasets"]["mnist"].update(pool="2.5"),
            r"'deep.datasets.mnist.pool' = 2.5 has the wrong type; it must be an integer",
        ),
        (
            lambda c: c["fig1"].update(lr="1e-3x"),
            r"'fig1.lr' = '1e-3x' has the wrong type; it must be a number \('1e-3x' does not read as a number\)",
        ),
        (lambda c: c["fig1"].update(lr="nan"), r"'fig1.lr' = 'nan' has the wrong type; it must be a number"),
        (lambda c: c["fig1"].update(lr=math.nan), r"'fig1.lr' = nan is not a finite number"),
        (lambda c: c["fig1"].update(lr=math.inf), r"'fig1.lr' = inf is not a finite number"),
        (
            lambda c: c["deep"].update(download="yes please"),
            r"'deep.download' = 'yes please' has the wrong type; it must be a boolean \(true or false\)",
        ),
        (
            lambda c: c.update(train_threads=True),
            r"'train_threads' = True has the wrong type; it must be an integer",
        ),
        (
            lambda c: c["fig1"].update(seeds="0"),
            r"'fig1.seeds' = '0' has the wrong type; it must be a list "
            r"\(a list, e.g. \[0, 1\]; .*--config 'fig1=\{seeds: \[0, 1\]\}'",
        ),
    ],
)
def test_values_that_do_not_coerce_are_rejected_by_key(edit, expected):
    with pytest.raises(ConfigError, match=expected):
        validate_config(_edited(edit), SCHEMA)


def test_number_strings_become_numbers():
    config = _valid(
        lambda c: (
            c["fig1"].update(lr="1e-3", width="32", d=" 20.0 ", n_train="1e3", seeds=["0", "1"], chunk_rows="128"),
            c["fig2"].update(lr=" 0.5 "),
            c["regimes"]["lr"].update(first="2.5E-2"),
            c.update(leaky_relu_slope="0.2", train_threads="4"),
        )
    )
    fig1 = config["fig1"]
    assert fig1["lr"] == pytest.approx(1e-3) and type(fig1["lr"]) is float
    assert (fig1["width"], fig1["d"], fig1["n_train"], fig1["seeds"], fig1["chunk_rows"]) == (32, 20, 1000, [0, 1], 128)
    assert all(type(v) is int for v in (fig1["width"], fig1["d"], fig1["n_train"], fig1["chunk_rows"], *fig1["seeds"]))
    assert config["fig2"]["lr"] == 0.5 and config["regimes"]["lr"]["first"] == pytest.approx(0.025)
    assert config["leaky_relu_slope"] == 0.2 and config["train_threads"] == 4


def test_yaml_overlay_exponent_without_dot_is_a_number():
    overlay = yaml.safe_load(
        "fig1:\n  lr: 1e-3\n  width: 32.0\nregimes:\n  lr: {first: 1e-1, second: 5e-1, both: 5e-1}\n"
    )
    assert overlay["fig1"]["lr"] == "1e-3"  # PyYAML (YAML 1.1) reads it as a string
    config = _config()
    config["fig1"].update(overlay["fig1"])
    config["regimes"].update(overlay["regimes"])
    validate_config(config, SCHEMA)
    assert config["fig1"]["lr"] == pytest.approx(1e-3) and config["fig1"]["width"] == 32
    assert config["regimes"]["lr"] == {"first": 0.1, "second": 0.5, "both": 0.5}


def test_boolean_and_null_strings():
    config = _valid(
        lambda c: (
            c["deep"].update(download="False", allow_tf32="TRUE"),
            c["fig1"].update(chunk_rows="null"),
            c["fig2"].update(chunk_rows="~"),
        )
    )
    assert config["deep"]["download"] is False and config["deep"]["allow_tf32"] is True
    assert config["fig1"]["chunk_rows"] is None and config["fig2"]["chunk_rows"] is None


def test_string_keys_are_left_alone():
    config = _valid(lambda c: (c.update(results_dir="2024"), c["deep"].update(data_root="1e-3", fig3=["mnist"])))
    assert config["results_dir"] == "2024" and config["deep"]["data_root"] == "1e-3"


def _with_command_line(*entries):
    """The config as Snakemake 9 builds it from config.yaml and --config entries."""
    cli = pytest.importorskip("snakemake.cli")
    from snakemake.utils import update_config

    config = _config()
    update_config(config, cli.parse_config(list(entries)))
    return config


def test_command_line_nested_values_arrive_as_strings_and_are_coerced():
    config = _with_command_line(
        "fig1={lr: 0.25, width: 32.0, seeds: [0, 1], chunk_rows: null}",
        "deep={checkpoint_minutes: 1, allow_tf32: true, datasets: {mnist: {pool: 2}}}",
        "regimes={lr: {first: 1e-3}}",
        "train_threads=3",
    )
    assert config["fig1"]["lr"] == "0.25" and config["deep"]["allow_tf32"] == "true"  # Snakemake's BaseLoader
    validate_config(config, SCHEMA)
    assert config["fig1"]["lr"] == 0.25 and config["fig1"]["width"] == 32 and config["fig1"]["seeds"] == [0, 1]
    assert config["fig1"]["chunk_rows"] is None and config["fig1"]["d"] == _config()["fig1"]["d"]  # merged
    assert config["deep"]["checkpoint_minutes"] == 1 and config["deep"]["allow_tf32"] is True
    assert config["deep"]["datasets"]["mnist"]["pool"] == 2 and config["deep"]["datasets"]["mnist"]["source"] == "mnist"
    assert config["regimes"]["lr"]["first"] == pytest.approx(1e-3) and config["train_threads"] == 3


def test_command_line_mapping_that_is_not_yaml_says_how_to_write_it():
    config = _with_command_line("regimes={lr: {first: 0.1}")  # unclosed brace: the whole value is one string
    assert config["regimes"] == "{lr: {first: 0.1}"
    with pytest.raises(
        ConfigError,
        match=r"'regimes' = '\{lr: \{first: 0.1\}' has the wrong type; it must be a mapping "
        r"\(.*does not read as a YAML mapping; on the command line write a YAML mapping "
        r"with a space after each colon, e.g. --config 'regimes=\{key: value\}'\)",
    ):
        validate_config(config, SCHEMA)


def test_command_line_colon_without_space_says_how_to_write_it():
    config = _with_command_line("fig2={lr:0.25}")  # YAML reads one key 'lr:0.25'
    with pytest.raises(
        ConfigError,
        match=r"unknown config key\(s\) 'lr:0.25' under 'fig2'.*space after each colon, "
        r"e.g. --config 'fig2=\{lr: 0.25\}'",
    ):
        validate_config(config, SCHEMA)


def test_object_given_as_a_string_is_parsed():
    full = _config()["fig2"]
    config = _valid(lambda c: c.update(fig2=yaml.safe_dump({**full, "lr": "1e-2"}, default_flow_style=True)))
    assert config["fig2"]["lr"] == pytest.approx(1e-2) and config["fig2"]["width"] == full["width"]
    message = _invalid(lambda c: c.update(fig2="{lr: 0.5}"))
    assert "config key 'fig2' lacks a required entry: 'width'" in message
    assert "note: config key 'fig2' was given as the string '{lr: 0.5}', which replaced the whole entry" in message


def test_the_schema_s_lists_come_from_the_registries_without_importing_them():
    """x-enum-from reads a registry's names from its module's source: the Snakefile reads the
    schema while it parses, and importing the activations' or the sources' module would load
    torch or numpy."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from earlylin.core.config import load_schema\n"
        f"load_schema({str(SCHEMA)!r})\n"
        "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    schema = load_schema(SCHEMA)
    from earlylin.core.activations import ACTIVATION_NAMES
    from earlylin.core.devices import DTYPES

    assert schema["properties"]["fig1"]["properties"]["activation"]["enum"] == list(ACTIVATION_NAMES)
    assert schema["properties"]["deep"]["properties"]["dtype"]["enum"] == list(DTYPES)
    assert registry_names("earlylin.data.sources:SOURCES")[:3] == ["cifar10", "mnist", "mnist_subset"]
    with pytest.raises(ValueError, match="not a module of earlylin"):
        registry_names("os.path:sep")
    with pytest.raises(ValueError, match="assigns no literal NOTHING"):
        registry_names("earlylin.core.losses:NOTHING")

"""Validation of the workflow's configuration against its JSON schema.

Runs when the Snakefile is parsed, before any job: a bad key or value stops the run
with a message that names the key, the value and what is allowed.

Before validating, values are coerced in place where the schema says what they must be,
because several routes deliver them with the wrong Python type:

* YAML writes whole numbers as floats (``width: 32.0``), which JSON schema accepts as
  integers but which break ranges and file names (``d20.0``): they become ints.
* PyYAML reads ``1e-3`` (no dot) as a string: number-like strings become numbers.
* ``snakemake --config 'fig1={lr: 0.25}'`` parses nested values with YAML's BaseLoader,
  so every nested scalar arrives as a string ('0.25', 'true', 'null'); a mapping that is
  not valid YAML (e.g. an unclosed brace) arrives as one string.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import re
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """The configuration does not match the schema; the message says how to fix it."""


ENUM_FROM = "x-enum-from"
PACKAGE = __package__.split(".")[0]


def load_schema(path: str | Path) -> dict[str, Any]:
    """The config schema, with every ``x-enum-from: module:NAME`` (a registry of this
    package, e.g. ``earlylin.data.sources:SOURCES``) replaced by ``enum`` = its names, so
    that a list the code defines is written down once."""
    with open(path, encoding="utf-8") as fh:
        return _package_enums(yaml.safe_load(fh))


def _package_enums(node: Any) -> Any:
    if isinstance(node, list):
        return [_package_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _package_enums(value) for key, value in node.items()}
    if ENUM_FROM in node:
        node["enum"] = registry_names(node.pop(ENUM_FROM))
    return node


def registry_names(reference: str) -> list[Any]:
    """The names of the registry ``module:NAME`` of this package, read from the module's
    source without importing it (a registry may live beside torch code, and the Snakefile
    reads the schema while it parses): NAME must be assigned a literal tuple or list, or a
    dict whose keys are literals (its names)."""
    module, _, name = reference.partition(":")
    if not module.startswith(f"{PACKAGE}."):
        raise ValueError(f"schema key {ENUM_FROM} names {module!r}, not a module of {PACKAGE}")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"schema key {ENUM_FROM}: no module {module!r}")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for statement in tree.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
        value = getattr(statement, "value", None)
        if value is None or not any(isinstance(t, ast.Name) and t.id == name for t in targets):
            continue
        if isinstance(value, ast.Dict):
            return [ast.literal_eval(key) for key in value.keys]
        return list(ast.literal_eval(value))
    raise ValueError(f"schema key {ENUM_FROM}: {module} assigns no literal {name}")


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _subschema(schema: dict[str, Any], path) -> dict[str, Any]:
    node = schema
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part, {})
    return node


_NULL_STRINGS = {"", "~", "null", "none"}
_BOOL_STRINGS = {"true": True, "false": False}


def _command_line_hint(path, leaf: str = "{key: value}") -> str:
    """How to set the entry at ``path`` on the command line, e.g. for ('regimes', 'lr'):
    --config 'regimes={lr: {key: value}}' (Snakemake merges such a mapping into the config)."""
    keys = [str(p) for p in path if not isinstance(p, int)] or ["fig1"]
    for key in reversed(keys[1:]):
        leaf = f"{{{key}: {leaf}}}"
    return f"on the command line write a YAML mapping with a space after each colon, e.g. --config '{keys[0]}={leaf}'"


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if kind is None:
        return set()
    return {kind} if isinstance(kind, str) else set(kind)


def _parse_number(text: str, integer: bool) -> int | float | None:
    """The number a string spells ('1e-3', ' 32 ', '32.0'), or None; whole numbers
    become ints when ``integer``. Non-finite values ('nan', 'inf') are not numbers here."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(number) if integer and number.is_integer() else number


def _coerce_value(value: Any, schema: dict[str, Any], path: tuple, notes: list[str]) -> Any:
    """``value`` converted to what ``schema`` expects where that is unambiguous
    (containers are coerced in place and returned)."""
    types = _types(schema)
    if isinstance(value, str) and value not in schema.get("enum", [value]):
        for member in schema["enum"]:
            if not isinstance(member, str) and _coerce_value(value, {"type": _json_type(member)}, path, []) == member:
                return member
    if isinstance(value, str) and ("object" in types or "array" in types):
        parsed = _parse_yaml(value)
        wanted = MutableMapping if "object" in types else MutableSequence
        if isinstance(parsed, wanted):
            if "object" in types:
                notes.append(
                    f"config key '{_key(path)}' was given as the string {value!r}, which replaced the "
                    f"whole entry; to change single keys, {_command_line_hint(path)}"
                )
            value = parsed
    if isinstance(value, MutableMapping):
        _coerce_mapping(value, schema, path, notes)
        return value
    if isinstance(value, MutableSequence) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            value[i] = _coerce_value(item, schema["items"], (*path, i), notes)
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if "null" in types and "string" not in types and lowered in _NULL_STRINGS:
            return None
        if "boolean" in types and "string" not in types and lowered in _BOOL_STRINGS:
            return _BOOL_STRINGS[lowered]
        if types & {"integer", "number"} and "string" not in types:
            number = _parse_number(value, integer="integer" in types and "number" not in types)
            if number is not None:
                return number
        return value
    if "integer" in types and "number" not in types and isinstance(value, float) and value.is_integer():
        return int(value)  # a non-whole float stays, for validation to reject by key
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "null" if value is None else "string"


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _coerce_mapping(config: MutableMapping[str, Any], schema: dict[str, Any], path: tuple, notes: list[str]) -> None:
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for name in list(config):
        sub = properties.get(name, extra if isinstance(extra, dict) else None)
        if sub is not None:
            config[name] = _coerce_value(config[name], sub, (*path, name), notes)


def coerce_config(config: MutableMapping[str, Any], schema: dict[str, Any]) -> list[str]:
    """Convert values of ``config`` in place to the types ``schema`` asks for.

    Integer keys: whole floats (32.0) become ints; non-whole ones stay for validation to
    reject. Number and integer keys: strings that spell a finite number ('1e-3', ' 32 ')
    become numbers (ints where the key is an integer and the value whole). Boolean keys:
    'true'/'false' in any case. Nullable non-string keys: 'null', '~', '' and 'none'.
    Object and array keys given as strings: parsed as YAML when that yields a mapping or
    list. Returns notes to show should the config still be invalid.
    """
    notes: list[str] = []
    _coerce_mapping(config, schema, (), notes)
    return notes


def _alternative(option: dict[str, Any]) -> str:
    """One choice of a ``oneOf`` in words: 'auto', 'a number > 0'."""
    if "const" in option:
        return repr(option["const"])
    kinds = option.get("type", "value")
    words = " or ".join(_TYPE_NAMES.get(name, name) for name in (kinds if isinstance(kinds, list) else [kinds]))
    limits = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
    return words + "".join(f" {sign} {option[name]}" for name, sign in limits.items() if name in option)


def describe_error(error: jsonschema.ValidationError, schema: dict[str, Any]) -> str:
    """One line naming the key, the offending value and the fix."""
    key = _key(error.absolute_path)
    value = error.instance
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed))
        where = f"under '{key}'" if error.absolute_path else "at the top level"
        hint = ""
        glued = [str(e) for e in extra if re.match(r"^\w+:\S", str(e))]
        if glued:
            name, _, rest = glued[0].partition(":")
            hint = f" (a key with a colon inside: {_command_line_hint([*error.absolute_path, name], rest)})"
        return (
            f"unknown config key(s) {', '.join(repr(e) for e in extra)} {where}; "
            f"allowed keys: {', '.join(allowed)}{hint}"
        )
    if kind == "required":
        return f"config key '{key}' lacks a required entry: {error.message}"
    if kind == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"config key '{key}' = {value!r} is not allowed; allowed values: {allowed}"
    if kind == "type":
        expected = error.validator_value
        expected = expected if isinstance(expected, list) else [expected]
        hint = _type_hint(value, set(expected), error.absolute_path)
        wanted = " or ".join(_TYPE_NAMES.get(name, name) for name in expected)
        return f"config key '{key}' = {value!r} has the wrong type; it must be {wanted}{hint}"
    bounds = {
        "minimum": ">=",
        "maximum": "<=",
        "exclusiveMinimum": ">",
        "exclusiveMaximum": "<",
    }
    if kind in bounds:
        return f"config key '{key}' = {value!r} is out of range; it must be {bounds[kind]} {error.validator_value}"
    if kind == "oneOf":
        choices = " or ".join(_alternative(option) for option in error.validator_value)
        return f"config key '{key}' = {value!r} is not allowed; it must be {choices}"
    if kind == "multipleOf":
        return f"config key '{key}' = {value!r} must be a multiple of {error.validator_value}"
    if kind in ("minItems", "maxItems", "uniqueItems"):
        return f"config key '{key}' = {value!r}: {error.message}"
    description = _subschema(schema, error.absolute_path).get("description", "")
    hint = f" ({description})" if description else ""
    return f"config key '{key}' = {value!r}: {error.message}{hint}"


# How a message names a JSON-schema type.
_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def _type_hint(value: Any, types: set[str], path) -> str:
    if "integer" in types and isinstance(value, float):
        return f" (a whole number; {value!r} is not)"
    if types & {"integer", "number"} and isinstance(value, str):
        return f" ({value!r} does not read as a number)"
    if "object" in types and isinstance(value, str):
        return f" ({value!r} does not read as a YAML mapping; {_command_line_hint(path)})"
    if "array" in types and not isinstance(value, list):
        return f" (a list, e.g. [0, 1]; {_command_line_hint(path, '[0, 1]')})"
    if "boolean" in types and isinstance(value, str):
        return " (true or false)"
    return ""


def fill_defaults(config: MutableMapping[str, Any], schema: dict[str, Any]) -> None:
    """Insert the schema's defaults for keys the config leaves out (recursively)."""
    for name, sub in schema.get("properties", {}).items():
        if name not in config and "default" in sub:
            config[name] = sub["default"]
        if sub.get("type") == "object" and isinstance(config.get(name), MutableMapping):
            fill_defaults(config[name], sub)


CrossKeyChecks = Callable[[Mapping[str, Any]], list[str]]


def validate_config(
    config: MutableMapping[str, Any], schema_path: str | Path, cross_key_checks: CrossKeyChecks | None = None
) -> None:
    """Coerce values of ``config`` to the schema's types and fill defaults, both in place
    (see ``coerce_config``), then validate it; when the schema holds, run
    ``cross_key_checks`` (the checks across keys that a schema cannot express, each a
    sentence naming the key, the value and the fix); raise ConfigError."""
    schema = load_schema(schema_path)
    notes = coerce_config(config, schema)
    fill_defaults(config, schema)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    problems = [describe_error(e, schema) for e in errors]
    problems += _non_finite_problems(config, ())
    if not problems and cross_key_checks is not None:  # they assume the structure the schema guarantees
        problems = cross_key_checks(config)
    if problems:
        lines = "\n".join([*(f"  - {p}" for p in problems), *(f"  note: {n}" for n in notes)])
        raise ConfigError(
            f"invalid configuration ({len(problems)} problem(s)):\n{lines}\n"
            f"Edit config/config.yaml or your overlay; the schema is {schema_path}."
        )


def _non_finite_problems(value: Any, path: tuple) -> list[str]:
    """NaN and infinity pass the schema's ranges (every comparison with NaN is false)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"config key '{_key(path)}' = {value!r} is not a finite number; give a finite value"]
    if isinstance(value, MutableMapping):
        return [p for k, v in value.items() for p in _non_finite_problems(v, (*path, k))]
    if isinstance(value, MutableSequence):
        return [p for i, v in enumerate(value) for p in _non_finite_problems(v, (*path, i))]
    return []

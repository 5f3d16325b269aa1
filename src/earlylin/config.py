"""Validation of the workflow's configuration against its JSON schema.

Runs when the Snakefile is parsed, before any job: a bad key or value stops the run
with a message that names the key, the value and what is allowed.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """The configuration does not match the schema; the message says how to fix it."""


def load_schema(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


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


def describe_error(error: jsonschema.ValidationError, schema: dict[str, Any]) -> str:
    """One line naming the key, the offending value and the fix."""
    key = _key(error.absolute_path)
    value = error.instance
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed))
        where = f"under '{key}'" if error.absolute_path else "at the top level"
        return (
            f"unknown config key(s) {', '.join(repr(e) for e in extra)} {where}; "
            f"allowed keys: {', '.join(allowed)}"
        )
    if kind == "required":
        return f"config key '{key}' lacks a required entry: {error.message}"
    if kind == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"config key '{key}' = {value!r} is not allowed; allowed values: {allowed}"
    if kind == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"config key '{key}' = {value!r} has the wrong type; it must be a(n) {expected}"
    bounds = {
        "minimum": ">=",
        "maximum": "<=",
        "exclusiveMinimum": ">",
        "exclusiveMaximum": "<",
    }
    if kind in bounds:
        return f"config key '{key}' = {value!r} is out of range; it must be {bounds[kind]} {error.validator_value}"
    if kind == "multipleOf":
        return f"config key '{key}' = {value!r} must be a multiple of {error.validator_value}"
    if kind in ("minItems", "maxItems", "uniqueItems"):
        return f"config key '{key}' = {value!r}: {error.message}"
    description = _subschema(schema, error.absolute_path).get("description", "")
    hint = f" ({description})" if description else ""
    return f"config key '{key}' = {value!r}: {error.message}{hint}"


def fill_defaults(config: MutableMapping[str, Any], schema: dict[str, Any]) -> None:
    """Insert the schema's defaults for keys the config leaves out (recursively)."""
    for name, sub in schema.get("properties", {}).items():
        if name not in config and "default" in sub:
            config[name] = sub["default"]
        if sub.get("type") == "object" and isinstance(config.get(name), MutableMapping):
            fill_defaults(config[name], sub)


def validate_config(config: MutableMapping[str, Any], schema_path: str | Path) -> None:
    """Fill defaults into ``config`` in place, then validate it; raise ConfigError."""
    schema = load_schema(schema_path)
    fill_defaults(config, schema)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    problems = [describe_error(e, schema) for e in errors] + _cross_key_problems(config)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(
            f"invalid configuration ({len(problems)} problem(s)):\n{lines}\n"
            f"Edit config/config.yaml or your overlay; the schema is {schema_path}."
        )


def _cross_key_problems(config: MutableMapping[str, Any]) -> list[str]:
    """Checks that span keys, which the schema cannot express."""
    deep = config.get("deep")
    if not isinstance(deep, MutableMapping) or not isinstance(deep.get("datasets"), MutableMapping):
        return []
    known = sorted(deep["datasets"])
    return [
        f"config key 'deep.{figure}' names data set {name!r}, which 'deep.datasets' does not define; "
        f"defined: {', '.join(known)}"
        for figure in ("fig3", "fig4")
        for name in deep.get(figure) or []
        if name not in deep["datasets"]
    ]

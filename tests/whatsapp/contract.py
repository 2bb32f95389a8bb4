"""Twilio's own contract for the requests formabot makes: the OpenAPI description of the
2010-04-01 API in `../shared/twilio-openapi/`, plus the rules it only states in `x-twilio`."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / ".." / "shared" / "twilio-openapi" / "twilio_api_v2010.json"


@cache
def spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(
            f"Twilio's OpenAPI description is absent ({SPEC.resolve()}): CI clones the"
            " repository beside a copy of shared/"
        )
    return json.loads(SPEC.read_text(encoding="utf-8"))


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


def operation(method: str, path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The OpenAPI operation for a request, and its path parameters; fails when none."""
    for template, item in spec()["paths"].items():
        found = _template(template).match(path)
        if found and method.lower() in item:
            return item[method.lower()], found.groupdict()
    raise AssertionError(f"{method} {path}: not an operation of Twilio's API")


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec()
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _value_problems(name: str, value: str, schema: dict[str, Any]) -> list[str]:
    schema = _resolve(schema)
    problems = []
    kind = schema.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        problems.append(f"{name}={value!r}: not an integer")
    if kind == "boolean" and value not in ("true", "false", "True", "False"):
        problems.append(f"{name}={value!r}: not a boolean")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{name}={value!r}: not one of {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{name}={value!r}: does not match {schema['pattern']}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        problems.append(f"{name}={value!r}: shorter than {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(f"{name}={value!r}: longer than {schema['maxLength']}")
    if (
        schema.get("format") == "uri"
        and not schema.get("x-twilio", {}).get("ignoreFormat")
        and not re.match(r"^https?://[^\s/]+", value)
    ):
        problems.append(f"{name}={value!r}: not a URI")
    return problems


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def problems(method: str, path: str, form: dict[str, list[str]]) -> list[str]:
    """Everything wrong with one request according to Twilio's description (empty: valid)."""
    op, path_values = operation(method, path)
    found: list[str] = []
    for parameter in op.get("parameters", []):
        if parameter.get("in") == "path":
            found += _value_problems(
                parameter["name"], path_values[parameter["name"]], parameter["schema"]
            )
    body = op.get("requestBody", {}).get("content", {})
    schema = _resolve(body.get("application/x-www-form-urlencoded", {}).get("schema", {}))
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in form:
            found.append(f"{name}: required")
    for name, values in form.items():
        if name not in properties:
            found.append(f"{name}: not a field of {op.get('operationId')}")
            continue
        prop = _resolve(properties[name])
        if prop.get("type") != "array" and len(values) > 1:
            found.append(f"{name}: given {len(values)} times")
        item = _resolve(prop.get("items", {})) if prop.get("type") == "array" else prop
        for value in values:
            found += _value_problems(name, value, item)
    given = {_snake(name) for name in form}
    for group in op.get("x-twilio", {}).get("conditional", []):
        if not given & set(group):
            found.append(f"one of {group} is required (x-twilio conditional)")
    return found

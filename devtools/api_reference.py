"""The HTTP API's reference in the documentation site, written from its OpenAPI document
(`server.openapi`): the document itself, and a page that lists each operation with its
parameters, request body and responses, then every schema with its fields.

    python -m devtools.api_reference

tests/test_openapi.py checks that both files are what this writes now.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from devtools import REPO_ROOT
from server import openapi

DOCS = REPO_ROOT / "docs"
JSON_FILE = DOCS / "openapi.json"
PAGE = DOCS / "api-reference.md"
COMMAND = "python -m devtools.api_reference"


def written() -> dict[Path, str]:
    """Each file of the reference, and what it should hold."""
    return {
        JSON_FILE: json.dumps(openapi.document(), indent=2, ensure_ascii=False) + "\n",
        PAGE: markdown(),
    }


def markdown() -> str:
    """The document as a page of the documentation site: each operation with its parameters,
    request body and responses, then the refusals any path under /api may get, then every
    schema with its fields."""
    spec = openapi.document()
    lines = [
        "# HTTP API reference",
        "",
        f"<!-- Written by `{COMMAND}` from server/openapi.py; tests/test_openapi.py checks "
        "that it is current. -->",
        "",
        spec["info"]["description"],
        "",
        f"The same description as an OpenAPI {openapi.OPENAPI_VERSION} document, for code "
        f"generators and API tools: [`{JSON_FILE.name}`]({JSON_FILE.name}), which a running "
        f"server also answers at `GET {openapi.PATH}`.",
        "",
        "| Operation | What it does |",
        "|---|---|",
    ]
    operations = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method != "head"
    ]
    for method, path, operation in operations:
        heading = f"{method.upper()} {path}"
        lines.append(f"| [`{heading}`](#{_slug(heading)}) | {operation['summary']}. |")
    for method, path, operation in operations:
        lines += ["", f"## `{method.upper()} {path}`", "", f"**{operation['summary']}.**"]
        if "description" in operation:
            lines += ["", operation["description"]]
        if "head" in spec["paths"][path]:
            lines += ["", "`HEAD` answers the same status and headers, without the body."]
        lines += _parameters(operation.get("parameters", []))
        lines += _request_body(operation.get("requestBody"))
        lines += _responses(operation["responses"])
    lines += [
        "",
        "## Refusals of any path under `/api`",
        "",
        "| Name | Body | Headers | When |",
        "|---|---|---|---|",
    ]
    for name, response in spec["components"]["responses"].items():
        lines.append(
            f"| `{name}` | {_bodies(response)} | {_headers(response)} | "
            f"{_cell(response['description'])} |"
        )
    lines += ["", "## Schemas"]
    for name, schema in spec["components"]["schemas"].items():
        lines += ["", f"### {name}", "", schema["description"]]
        if "properties" in schema:
            lines += ["", "| Field | Type | Description |", "|---|---|---|"]
            lines += [
                f"| `{field}` | {_type(property_schema)} | "
                f"{_cell(property_schema.get('description', ''))} |"
                for field, property_schema in schema["properties"].items()
            ]
        else:
            lines += ["", f"Type: {_type(schema)}."]
    return "\n".join(lines) + "\n"


def _parameters(parameters: list[dict]) -> list[str]:
    if not parameters:
        return []
    lines = ["", "**Parameters**", "", "| Name | In | Type | Description |", "|---|---|---|---|"]
    for parameter in parameters:
        where = parameter["in"] + ("" if parameter["required"] else ", optional")
        schema = parameter["schema"]
        default = f", default `{schema['default']}`" if "default" in schema else ""
        lines.append(
            f"| `{parameter['name']}` | {where} | {_type(schema)}{default} | "
            f"{_cell(parameter['description'])} |"
        )
    return lines


def _request_body(body: dict | None) -> list[str]:
    """A request body: its description, then what each content type holds, the types whose
    body is the bytes themselves in one row."""
    if body is None:
        return []
    content = body["content"]
    raw = [
        media_type for media_type in content if "properties" not in content[media_type]["schema"]
    ]
    lines = ["", "**Request body**", "", body["description"], ""]
    lines += ["| Content type | Holds |", "|---|---|"]
    lines.append(f"| {', '.join(f'`{media_type}`' for media_type in raw)} | the bytes |")
    for media_type in [media_type for media_type in content if media_type not in raw]:
        schema = content[media_type]["schema"]
        fields = [
            f"`{name}` ({'required' if name in schema['required'] else 'optional'}"
            f"{', ' + _type(field) if 'enum' in field else ''}): {field['description']}"
            for name, field in schema["properties"].items()
        ]
        lines.append(f"| `{media_type}` | {_cell('the fields ' + ' '.join(fields))} |")
    return lines


def _responses(responses: dict[str, dict]) -> list[str]:
    lines = ["", "**Responses**", "", "| Status | Body | Headers | When |", "|---|---|---|---|"]
    for status, response in responses.items():
        lines.append(
            f"| {status} | {_bodies(response)} | {_headers(response)} | "
            f"{_cell(response['description'])} |"
        )
    return lines


def _bodies(response: dict) -> str:
    """A response's content types, each with its schema."""
    return "<br>".join(
        f"`{media_type}`: {_type(content['schema'])}"
        for media_type, content in response.get("content", {}).items()
    )


def _headers(response: dict) -> str:
    return "<br>".join(
        f"`{name}`{'' if header['required'] else ' (optional)'}: {_cell(header['description'])}"
        for name, header in response.get("headers", {}).items()
    )


def _type(schema: dict) -> str:
    """A schema in a few words, with a link to each named schema it uses."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{_slug(name)})"
    if "oneOf" in schema:
        return " or ".join(_type(choice) for choice in schema["oneOf"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " or ".join(f"`{value}`" for value in schema["enum"])
    kinds = schema.get("type", "any")
    kind = " or ".join(kinds) if isinstance(kinds, list) else kinds
    if "items" in schema:
        count = schema.get("minItems")
        size = f" of {count}" if count is not None and count == schema.get("maxItems") else ""
        kind = f"{kind}{size}, each {_type(schema['items'])}"
    if "minimum" in schema and "maximum" in schema:
        kind += f", {schema['minimum']} to {schema['maximum']}"
    elif "minimum" in schema:
        kind += f", at least {schema['minimum']}"
    if "format" in schema:
        kind += f" ({schema['format']})"
    if "pattern" in schema:
        kind += f" matching `{schema['pattern']}`"
    return kind


def _cell(text: str) -> str:
    """Text that stays within one cell of a Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")


def _slug(heading: str) -> str:
    """The anchor MkDocs gives a heading (Python-Markdown's `toc` slugify)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def main() -> None:
    """Write the reference's files."""
    for path, text in written().items():
        path.write_text(text)
        print(f"Wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()

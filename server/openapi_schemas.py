"""The pieces of the HTTP API's OpenAPI document (`server.openapi`): the media types, the
helpers that write a schema, a response or a header, and the schemas of every answer, each
from the constants the code that gives it uses."""

from __future__ import annotations

import digit_model
from reading import MODES, WITHHELD, marks
from server import api, readiness
from server.served_model import ModelState

JSON = "application/json"
TEXT = "text/plain"
MB = 2**20


def schema_ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_object(properties: dict[str, dict], description: str) -> dict:
    """A JSON object schema with exactly these fields, every one always present."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def json_answer(schema: dict, description: str, headers: dict | None = None) -> dict:
    """A response whose body is JSON of this schema."""
    response: dict = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def refusal(description: str, headers: dict | None = None) -> dict:
    """A response whose body is the API's JSON error."""
    return json_answer(schema_ref("Error"), description, headers)


def header(description: str, schema: dict, required: bool = True) -> dict:
    return {"description": description, "required": required, "schema": schema}


PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}
SHARE_OR_NULL = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
RETRY_AFTER_TEXT = "Seconds to wait before asking again."
NO_STORE = header("Never cached: `no-store`.", {"type": "string", "const": "no-store"})
MODES_TEXT = " or ".join(f"`{mode}`" for mode in MODES)

# The fields of a digit read, as `reading.DigitReading.to_dict` gives them.
DIGIT_FIELDS = {
    "digit": {
        "type": "integer",
        "minimum": 0,
        "maximum": 9,
        "description": "The digit read: the most probable of the ten.",
    },
    "confidence": {
        **PROBABILITY,
        "description": "The probability of `digit`: the largest of `probabilities`.",
    },
    "probabilities": {
        "type": "array",
        "items": PROBABILITY,
        "minItems": 10,
        "maxItems": 10,
        "description": "The ten digits' calibrated probabilities, 0 to 9, summing to 1.",
    },
    "is_digit": {
        "type": "boolean",
        "description": "False when the model takes the picture for no digit at all (a letter, "
        "a scribble); `digit` is then only its best guess.",
    },
    "doubtful": {
        "type": "boolean",
        "description": "True when `is_digit` is false but the model is not firm about it (it "
        f'gives "no digit" less than a {digit_model.DOUBT_BELOW * 100:g} % chance): a program that '
        "would rather not refuse a real digit can take `digit` then, as the page does.",
    },
    "too_small": {
        "type": "boolean",
        "description": "True when the ink is only a dot or a speck, too small to read.",
    },
}

SCHEMAS = {
    "Error": json_object(
        {
            "error": {
                "type": "string",
                "description": "What is wrong and what to send instead; it repeats at most "
                f"{api.ECHO_CHARS} characters of a value sent.",
            }
        },
        "Every refusal of the API: why, in words meant for the person writing the client.",
    ),
    "OneDigitReading": json_object(
        {
            **DIGIT_FIELDS,
            "several_digits": {
                "type": ["string", "null"],
                "description": "The number the picture reads as when it holds two or more "
                'digits side by side, each read surely (`"37"`; send `mode=number` to read '
                "all of it); null for one digit.",
            },
        },
        "A picture read as one digit (`mode=digit`).",
    ),
    "NumberReading": json_object(
        {
            "number": {
                "type": "string",
                "description": "The number as written, left to right: leading zeros kept, a "
                "decimal point or comma, a minus sign or a dash where it is written "
                f'(`"12,50"`, `"-42"`); `{WITHHELD}` for a piece whose digit is withheld, '
                "as the page withholds it: too small, or firmly no digit (`too_small`, or "
                "`is_digit` and `doubtful` both false).",
            },
            "confidence": {
                **SHARE_OR_NULL,
                "description": "The chance that every digit is right: the digits' confidences "
                f"multiplied; null when `number` has a `{WITHHELD}`.",
            },
            "digits": {
                "type": "array",
                "items": schema_ref("PlacedDigit"),
                "description": "Each piece of the number read as one digit, left to right.",
            },
            "marks": {
                "type": "array",
                "items": schema_ref("PlacedMark"),
                "description": "The points, commas, dashes and minus sign written with the "
                "digits, left to right; empty when there is none.",
            },
        },
        "A picture read as a number (`mode=number`), from one line of writing.",
    ),
    "PlacedDigit": json_object(
        {**DIGIT_FIELDS, "box": {**schema_ref("Box"), "description": "Where it was written."}},
        "One digit of a number, and where it was written.",
    ),
    "PlacedMark": json_object(
        {
            "mark": {
                "type": "string",
                "enum": list(marks.MARK_SYMBOLS),
                "description": "The mark: a decimal point, a comma, or a dash (a minus sign).",
            },
            "after": {
                "type": "integer",
                "minimum": 0,
                "description": "How many pieces of `digits` come before it, withheld ones "
                "included; 0 for a minus sign.",
            },
            "box": {**schema_ref("Box"), "description": "Where it was written."},
        },
        "A point, comma or dash written between two digits, or a minus sign before the first.",
    ),
    "Box": {
        "type": "array",
        "items": {"type": "integer", "minimum": 0},
        "minItems": 4,
        "maxItems": 4,
        "description": "`[left, top, right, bottom]` in pixels of the picture as sent (turned "
        "upright when its EXIF says so); right and bottom exclusive.",
    },
    "ModelInfo": json_object(
        {
            "file": {"type": "string", "description": "The model file's name."},
            "sha256": {
                "type": "string",
                "pattern": "^[0-9a-f]{64}$",
                "description": "The SHA-256 of the file as the server loaded it (or will load "
                "it): a file written over it since does not answer until the server restarts.",
            },
            "size_bytes": {
                "type": "integer",
                "minimum": 0,
                "description": "The file's size as loaded.",
            },
            "trained_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "When the model was trained, an ISO 8601 time.",
            },
            "test_accuracy": {
                **SHARE_OR_NULL,
                "description": "Accuracy on MNIST's test digits.",
            },
            "canvas_accuracy": {
                **SHARE_OR_NULL,
                "description": "Accuracy on MNIST's test digits redrawn as strokes on the "
                "page's canvas.",
            },
            "pen_accuracy": {
                **SHARE_OR_NULL,
                "description": "Accuracy on the pen handwriting of writers held out from training.",
            },
            "pen_letters_flagged": {
                **SHARE_OR_NULL,
                "description": "On that handwriting, the share of letters it calls no digit.",
            },
            "calibration_error": {
                **SHARE_OR_NULL,
                "description": "On that handwriting, its expected calibration error.",
            },
        },
        "Which model answers, when it was trained and how well it reads; figures are from 0 "
        "to 1, null where not measured (or where the figures file cannot be read).",
    ),
    "Ready": json_object(
        {
            "ready": {"const": True, "description": "Ready for visitors."},
            "model": {"const": ModelState.LOADED.value, "description": "The model's state."},
            "database": {
                "const": readiness.DATABASE_READY,
                "description": "The feedback database's state.",
            },
        },
        "The model is loaded and compiled, and the feedback database answers.",
    ),
    "NotReady": json_object(
        {
            "ready": {"const": False, "description": "Not ready for visitors."},
            "model": {
                "type": "string",
                "enum": [state.value for state in ModelState],
                "description": f"`{ModelState.LOADING}`: being loaded or compiled; "
                f"`{ModelState.UNAVAILABLE}`: the file is missing or unreadable (a file put "
                "back is loaded again in the background).",
            },
            "database": {
                "type": "string",
                "enum": [readiness.DATABASE_READY, readiness.DATABASE_UNAVAILABLE],
                "description": "Whether the feedback database answered within "
                f"{readiness.PING_WAIT_S:g} s.",
            },
        },
        "Which part of the server is not ready yet.",
    ),
}

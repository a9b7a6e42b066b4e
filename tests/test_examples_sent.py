"""Programs read with a person's examples sent along: the HTTP API's example_<digit> files,
over real HTTP, and the command line's --example; bounded, and refused clearly."""

from __future__ import annotations

import pytest

import digit_model
from devtools.pictures import encoded, png
from reading import examples as sent_examples
from reading.__main__ import main as reading_command
from reading.limits import PHOTO_COST, Work
from tests.support.api import BOUNDARY, post
from tests.support.pictures import photographed, png_claiming_size
from tests.test_cli import predict


def example_form(
    picture: bytes, examples: list[tuple[str, bytes]], example_type: str | None = "image/png"
) -> tuple[bytes, str]:
    """A multipart/form-data body: the picture to read in "image", then each example's file,
    declared as `example_type`; with None, each example is sent as text (curl's -F name=<file)."""

    def part(name: str, data: bytes, part_type: str | None) -> bytes:
        file = "" if part_type is None else f'; filename="{name}.png"'
        declared = "" if part_type is None else f"\r\nContent-Type: {part_type}"
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"{file}{declared}'
        return f"{head}\r\n\r\n".encode() + data + b"\r\n"

    body = part("image", picture, "image/png")
    body += b"".join(part(name, data, example_type) for name, data in examples)
    return body + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture(scope="module")
def corrected(misread_style) -> tuple[int, bytes, bytes]:
    """A digit the model misreads: (its digit, one drawing of it as the example, another)."""
    digit, first, again = misread_style
    return digit.label, png(digit.traced_image(*first)), png(digit.traced_image(*again))


@pytest.mark.postgres
def test_the_api_reads_a_misread_digit_right_with_its_writers_example(app_url, corrected):
    digit, example, drawing = corrected
    status, alone = post(app_url, drawing)
    assert status == 200 and alone["digit"] != digit

    status, answer = post(app_url, *example_form(drawing, [(f"example_{digit}", example)]))

    assert status == 200
    assert answer["digit"] == digit and answer["is_digit"]
    # Nothing is stored: the same picture alone is read as before.
    assert post(app_url, drawing) == (200, alone)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("examples", "status", "message"),
    [
        ([("example_12", b"x")], 400, "Unknown file field 'example_12'"),
        ([("sample_7", b"x")], 400, "Unknown file field 'sample_7'"),
        (
            [("example_1", b"x" * (sent_examples.MAX_EXAMPLE_BYTES + 1))],
            413,
            "Example 1 takes 257 kB, over the 256 kB limit",
        ),
        (
            [("example_1", b"x")] * (sent_examples.MAX_EXAMPLES + 1),
            413,
            "more files than one picture to read and at most 100 examples",
        ),
        ([("example_3", b"Dear diary")], 400, "Example 1: "),
        (
            [("example_3", png_claiming_size(30_000, 30_000))],
            413,
            "far more than the 1,000,000 pixels read for one example",
        ),
    ],
    ids=["no such digit", "misnamed", "one too large", "too many", "not a picture", "a bomb"],
)
def test_examples_that_cannot_be_used_are_refused_saying_why(
    app_url, corrected, examples, status, message
):
    _, _, drawing = corrected
    answered, answer = post(app_url, *example_form(drawing, examples))
    assert answered == status
    assert message in answer["error"]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("example_type", "status", "message"),
    [
        ("image/gif", 415, "Example 1 is sent as image/gif. "),
        (None, 400, "The example 'example_{digit}' is sent as text, not as a file"),
    ],
    ids=["declared as a gif", "sent as text"],
)
def test_an_example_sent_as_what_is_not_read_is_refused_saying_so(
    app_url, corrected, example_type, status, message
):
    digit, example, drawing = corrected
    answered, answer = post(
        app_url, *example_form(drawing, [(f"example_{digit}", example)], example_type)
    )
    assert answered == status
    assert message.format(digit=digit) in answer["error"]


def test_the_command_line_reads_with_the_examples_given(tmp_path, corrected, capsys):
    digit, example, drawing = corrected
    (tmp_path / "example.png").write_bytes(example)
    (tmp_path / "drawing.png").write_bytes(drawing)

    assert reading_command(["predict", str(tmp_path / "drawing.png")]) == 0
    alone = capsys.readouterr().out
    assert (
        reading_command(
            [
                "predict",
                str(tmp_path / "drawing.png"),
                "--example",
                f"{digit}={tmp_path}/example.png",
            ]
        )
        == 0
    )
    taught = capsys.readouterr().out

    assert f": {digit} " not in alone
    assert f": {digit} " in taught


def test_an_example_file_that_is_not_there_is_said_without_loading_the_model(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "drawing.png").write_bytes(b"not read")
    monkeypatch.setattr(
        "reading.__main__._loaded_model", lambda path: pytest.fail("the model was loaded")
    )
    missing = tmp_path / "my_seven.png"
    assert (
        reading_command(["predict", str(tmp_path / "drawing.png"), "--example", f"7={missing}"])
        == 2
    )
    assert f"example {missing}: cannot open the file" in capsys.readouterr().err


def test_the_command_line_refuses_an_example_it_cannot_use(tmp_path):
    (tmp_path / "note.png").write_bytes(b"Dear diary")
    refused = predict(tmp_path / "note.png", "--example", f"7={tmp_path / 'note.png'}")
    assert refused.returncode == 2
    assert "Example 1: " in refused.stderr
    misspelt = predict(tmp_path / "note.png", "--example", "seven.png")
    assert misspelt.returncode == 2
    assert "write DIGIT=FILE" in misspelt.stderr


def test_reading_the_examples_counts_as_the_requests_work(clear_digits):
    # An example photographed on paper costs what the picture read would: a request with a
    # light picture and heavy examples takes the heavy lane like a heavy picture.
    classifier = digit_model.load()
    example = encoded(photographed(clear_digits, "7"), "JPEG", quality=90)
    charged: list[int] = []
    sent_examples.memory_of(classifier, [(example, 7)], Work(charged.append))
    assert charged and charged[-1] >= PHOTO_COST

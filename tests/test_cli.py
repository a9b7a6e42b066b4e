"""`python -m reading predict` on image files it is given: good pictures, a folder, a whole
number, and files it cannot read. As a person runs it where a process of its own matters
(pipes, closed descriptors, TensorFlow loading or failing to); its `main` here otherwise."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from devtools import REPO_ROOT
from devtools.pictures import png
from reading import photo
from reading.__main__ import DAMAGED_FILE, folder_without_pictures, image_files
from reading.__main__ import main as reading_command
from tests.support.pictures import drawn_digit, truncated_png, two_lines, written, written_number

SETUPS = ("black on transparent", "white on black", "navy on cream")


def predict(
    *arguments: str | Path,
    stdin: bytes | None = b"",
    closed: tuple[int, ...] = (),
    pythonpath: Path | None = None,
    cwd: Path = REPO_ROOT,
) -> subprocess.CompletedProcess:
    """Run the command line from the repository, as the README shows it; its output as text.
    `closed`: file descriptors it starts without (0 for no stdin, 2 for no stderr);
    `pythonpath`: a folder whose packages come before the installed ones; `cwd`: another
    folder to run it in, with the repository's packages."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("TF_")}
    environment["PYTHONPATH"] = os.pathsep.join(map(str, filter(None, (pythonpath, REPO_ROOT))))
    result = subprocess.run(
        [sys.executable, "-m", "reading", "predict", *map(str, arguments)],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        timeout=300,
        preexec_fn=(lambda: [os.close(descriptor) for descriptor in closed]) if closed else None,
    )
    result.stdout, result.stderr = result.stdout.decode(), result.stderr.decode()
    return result


@pytest.fixture
def predict_here(capsys, monkeypatch):
    """The command line's own `main` run in this process, answering as `predict` does: for
    what needs no process of its own (no closed descriptor, pipe or broken TensorFlow), so
    that TensorFlow's seconds of import are paid once (the model is loaded on each call, as
    a run does). `stdin`: what a pipe would carry; `cwd`: the folder it runs in."""

    def run(*arguments: str | Path, stdin: bytes = b"", cwd: Path = REPO_ROOT):
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        capsys.readouterr()
        code = reading_command(["predict", *map(str, arguments)])
        stdout, stderr = capsys.readouterr()
        return subprocess.CompletedProcess(arguments, code, stdout, stderr)

    return run


@pytest.fixture(scope="module")
def folder(tmp_path_factory, clear_digits) -> Path:
    """Three digits in three colour set-ups, a number, a broken PNG and a note that is no image."""
    folder = tmp_path_factory.mktemp("scans")
    for label, setup in zip((0, 3, 8), SETUPS):
        (folder / f"digit_{label}.png").write_bytes(png(drawn_digit(clear_digits[label], setup)))
    (folder / "year.png").write_bytes(png(written_number(clear_digits, "2026", SETUPS[0])))
    (folder / "broken.png").write_bytes(truncated_png())
    (folder / "notes.txt").write_text("not a picture, and not read: it is no image file")
    return folder


def test_each_file_gets_one_line_and_a_broken_one_a_non_zero_exit(folder, predict_here):
    result = predict_here(folder)
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert [line.split(":")[0] for line in lines] == [
        str(folder / name)
        for name in ("broken.png", "digit_0.png", "digit_3.png", "digit_8.png", "year.png")
    ]
    # A file here was not sent: its answer does not say to send it again.
    assert lines[0] == f"{folder / 'broken.png'}: error: {DAMAGED_FILE}"
    for line, label in zip(lines[1:4], (0, 3, 8)):
        assert line.split(": ")[1].startswith(f"{label} (") and line.endswith("%)")
    assert lines[4].endswith(
        "this looks like more than one digit: 2026 (read a number with --number)"
    )


def test_good_files_exit_zero_and_a_number_is_read_whole(
    folder, tmp_path, clear_digits, predict_here
):
    price = tmp_path / "price.png"
    price.write_bytes(png(written(clear_digits, "12,50")))
    # Options may come between the files, as in most commands.
    result = predict_here(folder / "year.png", "--number", folder / "digit_3.png", price)
    assert result.returncode == 0, result.stderr[-2000:]
    year, three, cost = result.stdout.splitlines()
    assert year.startswith(f"{folder / 'year.png'}: 2026 (")
    assert three.startswith(f"{folder / 'digit_3.png'}: 3 (")
    assert cost.startswith(f"{price}: 12,50 (")


def test_a_file_of_two_lines_of_writing_gets_an_error_and_no_number(
    tmp_path, clear_digits, predict_here
):
    picture = tmp_path / "lines.png"
    picture.write_bytes(png(two_lines(clear_digits, "12", "34")))
    result = predict_here("--number", picture)
    assert result.returncode == 1
    assert result.stdout == (
        f"{picture}: error: 2 lines of writing: a number is read from one line (crop each line "
        "into a file of its own)\n"
    )


def test_json_lines_carry_the_api_answer_and_each_error(folder, tmp_path, predict_here):
    missing = tmp_path / "missing.png"
    result = predict_here(folder / "digit_8.png", missing, folder / "notes.txt", "--json")
    assert result.returncode == 1
    eight, gone, notes = (json.loads(line) for line in result.stdout.splitlines())
    assert eight["file"] == str(folder / "digit_8.png") and eight["digit"] == 8
    assert eight["several_digits"] is None
    assert len(eight["probabilities"]) == 10 and eight["is_digit"] is True
    assert np.isclose(sum(eight["probabilities"]), 1.0, atol=1e-4)
    assert gone == {
        "file": str(missing),
        "error": "cannot open the file (No such file or directory)",
    }
    assert "not a PNG, JPEG or WebP" in notes["error"]


def test_an_image_piped_in_is_read_where_a_dash_stands(folder):
    eight = (folder / "digit_8.png").read_bytes()
    result = predict("-", folder / "digit_3.png", stdin=eight)
    assert result.returncode == 0, result.stderr[-2000:]
    piped, three = result.stdout.splitlines()
    assert piped.startswith("-: 8 (") and three.startswith(f"{folder / 'digit_3.png'}: 3 (")
    too_much = predict("-", stdin=eight + bytes(photo.MAX_BYTES))
    assert too_much.returncode == 1
    assert too_much.stdout == f"-: error: the image is over the {photo.MAX_MB} MB limit\n"


def test_a_file_or_folder_named_dash_is_no_standard_input(folder, tmp_path, predict_here):
    eight = (folder / "digit_8.png").read_bytes()
    (tmp_path / "-").write_bytes((folder / "digit_3.png").read_bytes())
    result = predict_here("./-", "-", stdin=eight, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    named, piped = result.stdout.splitlines()
    assert named.startswith("./-: 3 (") and piped.startswith("-: 8 (")
    # Nor does a folder named "-", with or without pictures, take the place of standard input.
    beside_a_folder = tmp_path / "beside"
    (beside_a_folder / "-").mkdir(parents=True)
    empty = predict_here("-", stdin=eight, cwd=beside_a_folder)
    assert empty.returncode == 0 and empty.stdout.startswith("-: 8 ("), empty.stdout
    (beside_a_folder / "-" / "digit_3.png").write_bytes((folder / "digit_3.png").read_bytes())
    piped = predict_here("-", stdin=eight, cwd=beside_a_folder)
    assert piped.returncode == 0 and piped.stdout.startswith("-: 8 ("), piped.stdout


def test_standard_input_is_read_once_and_a_closed_one_is_said_to_be_missing(folder):
    twice = predict("-", "-", folder / "digit_3.png")
    assert twice.returncode == 2 and twice.stdout == ""
    assert "standard input (-) can be read only once" in twice.stderr
    closed = predict("-", stdin=None, closed=(0,))
    assert closed.returncode == 1
    assert closed.stdout == "-: error: cannot open the file (there is no standard input)\n"


def test_answers_come_with_stderr_closed_and_errors_loading_tensorflow_still_show(folder, tmp_path):
    three = folder / "digit_3.png"
    quiet = predict(three, closed=(2,))
    assert quiet.returncode == 0 and quiet.stdout.startswith(f"{three}: 3 (")
    no_model = predict(three, "--model", tmp_path / "none.keras", closed=(2,))
    assert no_model.returncode == 2 and no_model.stdout == ""
    failed = predict(three, pythonpath=broken_tensorflow(tmp_path))
    assert failed.returncode == 1 and failed.stdout == ""
    assert "ImportError: this TensorFlow is broken" in failed.stderr


def broken_tensorflow(folder: Path) -> Path:
    """A folder of packages whose TensorFlow cannot be imported, to put before the real one."""
    (folder / "tensorflow").mkdir()
    (folder / "tensorflow" / "__init__.py").write_text(
        "raise ImportError('this TensorFlow is broken')"
    )
    return folder


def test_a_mistyped_path_and_an_empty_folder_are_answered_without_the_model(tmp_path):
    """Neither needs the model: they are answered before TensorFlow (seconds to load) is
    imported, here one that cannot be."""
    missing, empty = tmp_path / "digit_O.png", tmp_path / "scans"
    empty.mkdir()
    result = predict(missing, empty, pythonpath=broken_tensorflow(tmp_path))
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.splitlines() == [
        f"{missing}: error: cannot open the file (No such file or directory)",
        f"{empty}: error: no pictures in this folder",
    ]


def test_a_missing_model_says_how_to_fix_it(folder, tmp_path):
    """Whatever the files named, and at once: no TensorFlow is needed to find it missing."""
    packages = broken_tensorflow(tmp_path)
    for image in (folder / "digit_0.png", tmp_path / "gone.png"):
        result = predict(image, "--model", tmp_path / "none.keras", pythonpath=packages)
        assert result.returncode == 2
        assert "python train_model.py" in result.stderr and result.stdout == ""
        assert "if --model's path is mistyped, check it" in result.stderr
        assert "ImportError" not in result.stderr


def test_output_cut_short_ends_the_run_without_a_traceback(folder):
    """`predict scans/ | head -1`: the reader stops listening; the command stops quietly."""
    command = subprocess.Popen(
        [sys.executable, "-m", "reading", "predict", str(folder)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    command.stdout.close()  # before the model has loaded: its first line meets a closed pipe
    stderr = command.stderr.read().decode()
    assert command.wait(timeout=300) == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def test_no_digit_and_a_dot_are_named_as_such_and_tensorflow_keeps_quiet(not_a_digit, tmp_path):
    scribble, dot = tmp_path / "scribble.png", tmp_path / "dot.png"
    scribble.write_bytes(png(drawn_digit(not_a_digit, SETUPS[0])))
    white = np.full((280, 280, 4), 255, np.uint8)
    rows, cols = np.mgrid[0:280, 0:280]
    white[((rows - 140) ** 2 + (cols - 140) ** 2) <= 25, :3] = 0
    dot.write_bytes(png(white))
    result = predict(scribble, dot)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [f"{scribble}: not a digit", f"{dot}: too small"]
    assert result.stderr == ""  # TensorFlow's start-up notices are not for the reader


def test_a_folder_without_pictures_is_said_to_have_none(tmp_path, predict_here):
    (tmp_path / "notes.txt").write_text("no picture here")
    (tmp_path / ".cache").mkdir()  # hidden: nothing a person put there
    result = predict_here(tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{tmp_path}: error: no pictures in this folder"]
    (tmp_path / "2026").mkdir()
    nested = predict_here(tmp_path)
    assert nested.returncode == 1
    opened = "error: no pictures in this folder (to open the folders within it, add --recursive)"
    assert nested.stdout.splitlines() == [f"{tmp_path}: {opened}"]


def test_recursive_reads_the_pictures_in_folders_within_folders(folder, tmp_path, predict_here):
    """A scanner's output sorted by year and month; a hidden folder is a program's, not a scan's."""
    for relative in ("2025/12/digit_0.png", "2026/01/digit_3.png", ".thumbnails/digit_8.png"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes((folder / Path(relative).name).read_bytes())
    (tmp_path / "digit_8.png").write_bytes((folder / "digit_8.png").read_bytes())
    (tmp_path / "2026" / "02").mkdir()
    result = predict_here("--recursive", tmp_path, tmp_path / "2026" / "02")
    assert result.returncode == 1, result.stderr[-2000:]
    read = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert list(read) == [
        str(tmp_path / "2025/12/digit_0.png"),
        str(tmp_path / "2026/01/digit_3.png"),
        str(tmp_path / "digit_8.png"),
        str(tmp_path / "2026" / "02"),
    ]
    assert [answer.split(" ")[0] for answer in list(read.values())[:3]] == ["0", "3", "8"]
    assert read[str(tmp_path / "2026" / "02")] == (
        "error: no pictures in this folder or the folders within it"
    )


def test_a_picture_in_a_format_not_read_is_answered_not_passed_over(folder, tmp_path, predict_here):
    """A GIF among a folder's scans is answered as it would be if named; a file that is no
    picture, a Mac's hidden copy of a scan's details, and a folder within (without
    --recursive) are left alone."""
    (tmp_path / "older").mkdir()
    (tmp_path / "older" / "digit_0.png").write_bytes((folder / "digit_0.png").read_bytes())
    (tmp_path / "digit_3.png").write_bytes((folder / "digit_3.png").read_bytes())
    (tmp_path / "._digit_3.png").write_bytes(b"Mac OS X resource fork of digit_3.png")
    Image.open(folder / "digit_8.png").save(tmp_path / "digit_8.gif")
    (tmp_path / "notes.txt").write_text("no picture here")
    result = predict_here(tmp_path)
    assert result.returncode == 1
    three, gif = result.stdout.splitlines()
    assert three.startswith(f"{tmp_path / 'digit_3.png'}: 3 (")
    assert gif.startswith(f"{tmp_path / 'digit_8.gif'}: error: This file is a GIF, not a PNG")


def test_files_after_a_double_dash_are_files_whatever_their_names(folder, tmp_path, predict_here):
    (tmp_path / "-3.png").write_bytes((folder / "digit_3.png").read_bytes())
    result = predict_here(folder / "digit_8.png", "--json", "--", "-3.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    eight, three = (json.loads(line) for line in result.stdout.splitlines())
    assert (eight["digit"], three["file"], three["digit"]) == (8, "-3.png", 3)


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (["predict", "scan.png", "--nubmer"], "--nubmer (did you mean --number?)"),
        (["--json", "predict", "scan.png"], "--json (--json goes after predict)"),
    ],
    ids=["mistyped", "before the command"],
)
def test_an_option_not_understood_is_named_with_the_one_likely_meant(words, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        reading_command(words)
    assert stopped.value.code == 2
    shown = capsys.readouterr()
    assert shown.out == "" and shown.err.startswith("usage: python -m reading predict")
    assert f"error: unrecognized arguments: {said}" in shown.err


def test_an_empty_model_path_is_refused_not_taken_for_the_default(capsys):
    """`--model=$MODEL` with MODEL unset: the script meant a model, not the committed one."""
    with pytest.raises(SystemExit) as stopped:
        reading_command(["predict", "scan.png", "--model="])
    assert stopped.value.code == 2
    shown = capsys.readouterr()
    assert shown.out == ""
    assert "error: argument --model: give a model file's path, such as model.keras" in shown.err


def test_recursive_answers_a_folder_it_cannot_open_and_reads_each_picture_once(
    tmp_path, monkeypatch
):
    """A folder within that this user may not list is answered, not passed over in silence;
    a folder named within another named folder adds no second reading of its pictures."""
    (tmp_path / "2026").mkdir()
    (tmp_path / "2026" / "digit.png").write_bytes(b"read by path only here")
    locked = tmp_path / "payroll"
    locked.mkdir()

    def refused(listing):
        def listed(path="."):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return listing(path)

        return listed

    monkeypatch.setattr(os, "scandir", refused(os.scandir))
    monkeypatch.setattr(os, "listdir", refused(os.listdir))
    named = [tmp_path, tmp_path / "2026"]
    assert list(image_files(named, recursive=True)) == [tmp_path / "2026" / "digit.png", locked]
    assert folder_without_pictures(locked, recursive=True) == (
        "cannot open the folder (Permission denied)"
    )

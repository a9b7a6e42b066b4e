"""Read digits in image files from a terminal, through the same pipeline as the page and API.

    python -m reading predict IMAGE_OR_FOLDER... [--number] [--json] [--recursive] [--model PATH]
                              [--example DIGIT=FILE]...

Prints one line per file: the digit (or with --number the whole number) and the confidence,
or why the digit is withheld ("too small", "not a digit"; "?" in a number), or what is
wrong with that file. A file read as one digit that holds several side by side is said to
look like more than one digit, with the number they read as. A folder stands for every
picture in it (a GIF, TIFF or HEIC among them is answered that it is not read; hidden files
are passed over, and so are the folders within it unless --recursive is given), and `-` for
an image piped to standard input (a file named "-" is `./-`).
With --example, each a picture of one of the person's digits and the digit meant (as many as
a handwriting memory keeps), every file is read with those examples weighed in, as the page
reads with a person's labels; nothing is stored.
With --json each line is a JSON object with the file's name and the HTTP API's answer.
Exits with 1 when any file could not be read, after reading all the others, or when whoever
reads the output stops (`| head -1`); with 2 when the model cannot be loaded, the command
line is not understood, or an example cannot be used.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import functools
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from stat import S_ISREG

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up notices: not answers

import digit_model
from reading import MAY_NOT_BE_A_DIGIT, NumberReading, OneDigitReading, photo, read_image_bytes
from reading import examples as sent_examples
from reading.memory import HandwritingMemory

NO_HANDWRITING = "no handwriting found"
# A local file cut off or corrupt: said without the upload's "try sending it again"
DAMAGED_FILE = (
    "the image file is damaged or incomplete (it may have been cut off while it was saved or "
    "copied)"
)
# Pictures in formats the model does not read, named in a folder's answers all the same
OTHER_PICTURE_EXTENSIONS = ("gif", "tif", "tiff", "bmp", "heic", "heif", "avif")
# The one object that stands for `-`, told apart by identity: Path("./-") == Path("-"), and
# `./-` names a file called "-".
STANDARD_INPUT = Path("-")
# What TensorFlow 2.21's native libraries print while they load, whatever TF_CPP_MIN_LOG_LEVEL
# says: notices, not answers.
START_UP_NOTICES = ("before absl::InitializeLog() is called", "oneDNN custom operations are on")


def image_argument(text: str) -> Path:
    """An image named on the command line: STANDARD_INPUT for `-`, else the path."""
    return STANDARD_INPUT if text == "-" else Path(text)


def model_argument(text: str) -> Path:
    """The model file named by --model; an empty `--model=` is a mistake, not the default."""
    if not text:
        raise argparse.ArgumentTypeError("give a model file's path, such as model.keras")
    return Path(text)


def example_argument(text: str) -> tuple[int, Path]:
    """An example named by --example: DIGIT=FILE, the digit meant and its picture."""
    digit, equals, path = text.partition("=")
    if not (equals and len(digit) == 1 and digit.isdigit() and path):
        raise argparse.ArgumentTypeError(f"write DIGIT=FILE (7=my_seven.png), not {text!r}")
    return int(digit), Path(path)


def example_pictures(examples: list[tuple[int, Path]]) -> list[tuple[bytes, int]] | str:
    """The pictures of the examples named by --example, each with its digit, or why one
    cannot be read: without the model, so that a mistyped path is answered at once."""
    pictures = []
    for digit, path in examples:
        data = file_bytes(path)
        if isinstance(data, str):
            return f"example {path}: {data}"
        pictures.append((data, digit))
    return pictures


def examples_memory(
    classifier: digit_model.Classifier, pictures: list[tuple[bytes, int]]
) -> HandwritingMemory | str:
    """A memory of the examples' pictures (`example_pictures`), or why it cannot be made."""
    try:
        return sent_examples.memory_of(classifier, pictures)
    except sent_examples.ExampleRefused as refused:
        return str(refused)


def image_files(paths: list[Path], recursive: bool = False) -> Iterator[Path]:
    """The files named, with each folder replaced by the pictures in it (and, `recursive`, in
    the folders within it), by path; a folder with none, or that cannot be listed, stands for
    itself, to be answered why."""
    found_in_folders: set[Path] = set()  # `-r scans scans/2026` reads each picture once
    for path in paths:
        if path is not STANDARD_INPUT and path.is_dir():
            try:
                pictures = sorted(_pictures_in(path, recursive))
            except OSError:
                pictures = []
            for picture in pictures or [path]:
                if (found := picture.resolve()) not in found_in_folders:
                    found_in_folders.add(found)
                    yield picture
        else:
            yield path


def _pictures_in(folder: Path, recursive: bool) -> Iterator[Path]:
    """The pictures in a folder, and `recursive`, in every folder within it but hidden ones
    and links to folders (which could lead round in a loop); a folder within that cannot be
    listed stands for itself, to be answered why."""
    if not recursive:
        yield from (entry for entry in folder.iterdir() if _is_picture(entry))
        return
    unlistable: list[OSError] = []
    for root, folders, files in os.walk(folder, onerror=unlistable.append):
        folders[:] = [name for name in folders if not name.startswith(".")]
        yield from (Path(root, name) for name in files if _is_picture(Path(root, name)))
    yield from (Path(error.filename) for error in unlistable if Path(error.filename) != folder)


def _is_picture(entry: Path) -> bool:
    """Whether a file in a folder is a picture: one in a format the model reads, or one in
    another, to be answered that it is not read rather than passed over in silence. Hidden
    files (a Mac's `._scan.png` beside `scan.png`) are none."""
    extension = entry.suffix.lower().lstrip(".")
    return (
        not entry.name.startswith(".")
        and extension in photo.FILE_EXTENSIONS + OTHER_PICTURE_EXTENSIONS
        and entry.is_file()
    )


def folder_without_pictures(folder: Path, recursive: bool) -> str:
    """Why a folder named yields no pictures: it cannot be opened, it has none, or they are
    in folders within it, which --recursive opens."""
    try:
        inner = [entry for entry in folder.iterdir() if not entry.name.startswith(".")]
    except OSError as error:
        return f"cannot open the folder ({error.strerror or error})"
    if recursive:
        return "no pictures in this folder or the folders within it"
    if any(entry.is_dir() for entry in inner):
        return "no pictures in this folder (to open the folders within it, add --recursive)"
    return "no pictures in this folder"


def file_bytes(path: Path) -> bytes | str:
    """A file's bytes (for `-`, those piped in), or why they cannot be read: without the
    model, so that a mistyped path is answered at once."""
    try:
        data = _bounded_read(path)
        if len(data) > photo.MAX_BYTES:
            size = None if path is STANDARD_INPUT else path.stat()
            shown = f" ({photo.megabytes(size.st_size)})" if size and S_ISREG(size.st_mode) else ""
            return f"the image{shown} is over the {photo.MAX_MB} MB limit"
    except OSError as error:
        return f"cannot open the file ({error.strerror or error})"
    return data


def read_bytes(
    classifier: digit_model.Classifier,
    data: bytes,
    number: bool,
    memory: HandwritingMemory | None = None,
) -> OneDigitReading | NumberReading | str:
    """What the model reads in one file's bytes, with the person's examples weighed in when
    given, or why the picture cannot be read."""
    try:
        reading = read_image_bytes(classifier, data, "number" if number else "digit")
    except photo.DamagedPicture:
        return DAMAGED_FILE
    except photo.PhotoError as error:
        return str(error)
    if reading is None:
        return NO_HANDWRITING
    if isinstance(reading, NumberReading) and reading.several_lines:
        return (
            f"{reading.lines} lines of writing: a number is read from one line (crop each line "
            "into a file of its own)"
        )
    return reading if memory is None else sent_examples.recalled(reading, memory)


def _bounded_read(path: Path) -> bytes:
    """A file's bytes, or for `-` those piped to standard input: one byte past the limit at
    most, so that memory stays bounded whatever is sent."""
    if path is STANDARD_INPUT:
        if sys.stdin is None:
            raise OSError("there is no standard input")
        return sys.stdin.buffer.read(photo.MAX_BYTES + 1)
    with path.open("rb") as image:
        return image.read(photo.MAX_BYTES + 1)


def line(path: Path, result: OneDigitReading | NumberReading | str, as_json: bool) -> str:
    """One output line for one file."""
    name = "./-" if path is not STANDARD_INPUT and str(path) == "-" else str(path)
    if as_json:
        answer = {"error": result} if isinstance(result, str) else result.to_dict()
        return json.dumps({"file": name, **answer})
    if isinstance(result, str):
        return f"{name}: error: {result}"
    return f"{name}: {answer_text(result)}"


def answer_text(reading: OneDigitReading | NumberReading) -> str:
    """The answer as the page gives it: the digit or number and the confidence, or why a
    digit is withheld ("?" in a number), the model's doubts in words, and for one digit,
    the number it reads as when it looks like more than one digit."""
    if isinstance(reading, OneDigitReading):
        several = (
            f"; this looks like more than one digit: {reading.several_digits} (read a number "
            "with --number)"
            if reading.several_digits
            else ""
        )
        if reading.withheld:
            return reading.withheld + several
        doubt = f"; {MAY_NOT_BE_A_DIGIT}" if reading.doubtful else ""
        return f"{reading.digit} ({reading.confidence:.0%}{doubt}){several}"
    notes = [] if reading.confidence is None else [f"{reading.confidence:.0%}"]
    for position, digit in enumerate(reading.digits, start=1):
        if digit.withheld:
            notes.append(f"piece {position} is {digit.withheld}")
        elif digit.doubtful:
            notes.append(f"piece {position} {MAY_NOT_BE_A_DIGIT}")
    return f"{reading.number} ({'; '.join(notes)})"


@contextlib.contextmanager
def _start_up_notices_left_out() -> Iterator[None]:
    """The process's stderr held in a file while TensorFlow's native libraries load, then
    passed on without START_UP_NOTICES: an error, or an ImportError's traceback, still comes
    out (a native crash during the load would lose what it wrote). With no stderr at all,
    nothing is held."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode(errors="replace").splitlines(keepends=True):
                if not any(notice in line for notice in START_UP_NOTICES):
                    sys.stderr.write(line)


def predict(args: argparse.Namespace) -> int:
    """Read every file; 0 when all were read, 1 when any was not or the output was cut
    short (`| head`), 2 without a model or with an example that cannot be used. The model
    (and TensorFlow, seconds) loads when the first file is found, or the examples' files are
    read; a model file or an example's file that is not there is said at once."""
    if not (args.model or digit_model.model_path()).is_file():
        _loaded_model(args.model)  # says why, before TensorFlow would load
        return 2
    model = functools.cache(lambda: _loaded_model(args.model))
    memory = None
    if args.example:
        pictures = example_pictures(args.example)
        if isinstance(pictures, str):
            print(pictures, file=sys.stderr)
            return 2
        if (classifier := model()) is None:
            return 2
        memory = examples_memory(classifier, pictures)
        if isinstance(memory, str):
            print(memory, file=sys.stderr)
            return 2
    failed = False
    try:
        for path in image_files(args.images, args.recursive):
            if path is not STANDARD_INPUT and path.is_dir():
                result = folder_without_pictures(path, args.recursive)
            elif isinstance(data := file_bytes(path), str):
                result = data
            elif (classifier := model()) is None:
                return 2
            else:
                result = read_bytes(classifier, data, args.number, memory)
            failed |= isinstance(result, str)
            print(line(path, result, args.json), flush=True)
    except BrokenPipeError:  # whoever read the answers stopped: the rest is for no one
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 1 if failed else 0


def _loaded_model(path: Path | None) -> digit_model.Classifier | None:
    """The model named by --model (or the default), or None once stderr says why it cannot
    be loaded."""
    try:
        with _start_up_notices_left_out():  # TensorFlow loads with the model
            return digit_model.load(path or digit_model.model_path())
    except digit_model.ModelUnavailable as error:
        if sys.stderr is not None:  # with stderr closed, the exit status alone says it
            print(error, file=sys.stderr)
            if path is not None and not path.exists():
                print("Or, if --model's path is mistyped, check it.", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    """Read the files and folders named on the command line; the exit status says how it went."""
    parser = argparse.ArgumentParser(
        prog="python -m reading",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    reader = commands.add_parser("predict", help="read the digits in image files")
    reader.add_argument(
        "images",
        nargs="+",
        type=image_argument,
        help="image files or folders of them; - for stdin (./- for a file named -)",
    )
    options = [
        reader.add_argument("--number", action="store_true", help="read a whole number per file"),
        reader.add_argument("--json", action="store_true", help="one JSON object per line"),
        reader.add_argument(
            "-r",
            "--recursive",
            action="store_true",
            help="read the pictures in the folders within the folders named too",
        ),
        reader.add_argument(
            "--model",
            type=model_argument,
            help=f"model file (default: ${digit_model.MODEL_PATH_VARIABLE} or model.keras)",
        ),
        reader.add_argument(
            "--example",
            action="append",
            type=example_argument,
            metavar="DIGIT=FILE",
            help="a picture of one of your digits and the digit meant, to read with "
            f"(repeat it, up to {sent_examples.MAX_EXAMPLES})",
        ),
    ]
    args, unknown = parser.parse_known_args(argv)
    # Files after an option (`a.png --json b.png`), and after a `--` that follows one, come
    # back unknown: they are files all the same. Unknown options are named under predict's
    # own usage, not the top level's.
    ends = unknown.index("--") if "--" in unknown else len(unknown)
    files = [word for word in unknown[:ends] if not _is_option(word)] + unknown[ends + 1 :]
    args.images += [image_argument(word) for word in files]
    unknown = [word for word in unknown[:ends] if _is_option(word)]
    if unknown:
        names = [name for option in options for name in option.option_strings]
        reader.error(unknown_options_message(unknown, names))
    if sum(path is STANDARD_INPUT for path in args.images) > 1:
        reader.error("standard input (-) can be read only once")
    return predict(args)


def _is_option(word: str) -> bool:
    """Whether a word on the command line is written as an option; `-` is standard input."""
    return word.startswith("-") and word != "-"


def unknown_options_message(unknown: list[str], options: list[str]) -> str:
    """What the command line says of options it does not know: where a known one was put
    before the command, or which one a mistyped one likely meant."""
    hints = []
    for word in unknown:
        name = word.split("=")[0]
        if name in options:
            hints.append(f"{name} goes after predict")
        elif match := difflib.get_close_matches(name, options, n=1):
            hints.append(f"did you mean {match[0]}?")
    said = f" ({'; '.join(hints)})" if hints else ""
    return f"unrecognized arguments: {' '.join(unknown)}{said}"


if __name__ == "__main__":
    sys.exit(main())

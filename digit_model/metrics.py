"""What training measured about a model: written by `train_model.py`, read by the page and the API.

The figures live beside the model file as JSON (`model.metrics.json`). Here they are typed:
`ModelMetrics.from_dict` checks every field, so a stale or hand-edited file is refused in
one place with a clear message instead of failing somewhere in the page.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class ReliabilityBin:
    """Answers whose confidence fell in [low, high): how sure the model was, how often right."""

    low: float
    high: float
    confidence: float
    accuracy: float
    samples: int


@dataclass(frozen=True)
class Calibration:
    """Expected calibration error over some digits, and its reliability diagram."""

    ece: float
    samples: int
    bins: list[ReliabilityBin]


@dataclass(frozen=True)
class CanvasFigures:
    """Test digits redrawn on the canvas at random size, place, brush and colours."""

    accuracy: float
    samples: int
    by_colour_setup: dict[str, float]
    digits_flagged: float | None = None  # None in metrics written before it was


@dataclass(frozen=True)
class PenFigures:
    """Real pen handwriting of writers held out from training."""

    accuracy: float
    samples: int
    writers: int
    by_site: dict[str, float]
    digits_flagged: float  # share of digits the model took for something else
    letters_flagged: float  # share of letters it rightly said are no digit
    letters: int
    symbols_flagged: float
    symbols: int
    generated_flagged: dict[str, float]  # per kind of generated not-digit drawing
    calibration: Calibration
    # Per site, the share of its letters flagged: where the verdict falls short even on
    # sites trained on. None in metrics written before it was.
    letters_by_site: dict[str, float] | None = None


@dataclass(frozen=True)
class SourceFigures:
    """Handwriting from a source training never saw: no writer and no site of it."""

    accuracy: float
    samples: int
    writers: int
    digits_flagged: float  # share of its digits the model took for no digit
    flagged_by_digit: list[int]  # how many of each digit 0-9 were taken for no digit
    letters_flagged: float | None  # share of its letters rightly flagged; None without letters
    letters: int
    # Rows: the digit written; columns: the digit read. None in metrics written before it was.
    confusion_matrix: list[list[int]] | None = None
    # Per letter, how many of its letters were taken for each digit 0-9: where the verdict
    # lets letters through. None in metrics written before it was.
    letters_read_as: dict[str, list[int]] | None = None


def _commonest(counts: dict[str, list[int]], count: int, skip_same: bool = False) -> str:
    """The `count` largest of `counts` (what was written -> times read as each digit), most
    first and ties in order, as "0→4 (20), 1→7 (11)"; "none" if there are none."""
    pairs = sorted(
        (-times, written, read)
        for written, row in counts.items()
        for read, times in enumerate(row)
        if times and not (skip_same and str(read) == written)
    )[:count]
    return ", ".join(f"{written}→{read} ({-times})" for times, written, read in pairs) or "none"


def commonest_misreads(confusion_matrix: list[list[int]] | None, count: int = 3) -> str:
    """The `count` commonest misreadings, most first and ties in digit order, as "0→4 (20),
    1→7 (11)"; "none" if there are none, "" if they were not recorded."""
    if confusion_matrix is None:
        return ""
    rows = {str(written): row for written, row in enumerate(confusion_matrix)}
    return _commonest(rows, count, skip_same=True)


def commonest_letters_read(letters_read_as: dict[str, list[int]] | None, count: int = 3) -> str:
    """The `count` commonest letters taken for a digit, as "a→2 (53), y→4 (40)"; "none" if
    every letter was flagged, "" if they were not recorded."""
    if letters_read_as is None:
        return ""
    return _commonest(letters_read_as, count)


def pooled(sources: list[SourceFigures]) -> SourceFigures:
    """Several sources' digits and letters counted together, as one source: each drawing
    weighs the same, so a large site counts for more than in a mean over sites."""
    samples = sum(source.samples for source in sources)
    letters = sum(source.letters for source in sources)
    letters_caught = sum((source.letters_flagged or 0.0) * source.letters for source in sources)
    flagged_by_digit = [sum(counts) for counts in zip(*(s.flagged_by_digit for s in sources))]
    matrices = [source.confusion_matrix for source in sources]
    confusion = None
    if None not in matrices:
        confusion = [[sum(cells) for cells in zip(*rows)] for rows in zip(*matrices)]
    letters_read_as = None
    if all(source.letters_read_as is not None for source in sources):
        letters_read_as = {}
        for source in sources:
            for letter, row in source.letters_read_as.items():
                total = letters_read_as.get(letter, [0] * 10)
                letters_read_as[letter] = [a + b for a, b in zip(total, row)]
    return SourceFigures(
        accuracy=sum(source.accuracy * source.samples for source in sources) / samples,
        samples=samples,
        writers=sum(source.writers for source in sources),
        digits_flagged=sum(flagged_by_digit) / samples,
        flagged_by_digit=flagged_by_digit,
        letters_flagged=letters_caught / letters if letters else None,
        letters=letters,
        confusion_matrix=confusion,
        letters_read_as=letters_read_as,
    )


@dataclass(frozen=True)
class SiteFolds:
    """Each UNIPEN site read by a model trained on the same recipe without that site, all the
    models of one size."""

    epochs: int
    mnist_digits: int  # MNIST training digits per model; generated sets cut in proportion
    sites: dict[str, SourceFigures]

    def __post_init__(self) -> None:
        if not self.sites or not all(fold.samples > 0 for fold in self.sites.values()):
            raise ValueError("a leave_one_site_out record needs each site it names read on digits")


@dataclass(frozen=True)
class Layer:
    """One row of the architecture table."""

    layer: str
    type: str
    output: str
    parameters: int


@dataclass(frozen=True)
class FinetuneRecord:
    """How a fine-tuning run on feedback went."""

    feedback_samples: int
    held_out: int
    mnist_digits: int
    epochs: int
    learning_rate: float
    feedback_accuracy_before: float
    feedback_accuracy_after: float
    mnist_test_accuracy_before: float
    mnist_test_accuracy_after: float
    finetuned_at: str


@dataclass(frozen=True)
class ModelMetrics:
    """What train_model.py writes beside a model: its training record and every figure it
    measured, those the model card and `GET /api/model` show among them."""

    test_accuracy: float
    test_samples: int
    test_flagged: float
    test_calibration: Calibration
    per_digit_accuracy: list[float]
    confusion_matrix: list[list[int]]
    parameters: int
    file_size_bytes: int
    temperature: float
    canvas: CanvasFigures | None
    styles: dict[str, float]
    pen: PenFigures | None
    epochs: int
    training_seconds: float
    training_samples: int
    validation_samples: int
    history: dict[str, list[float]]
    architecture: list[Layer]
    trained_at: str
    seed: int
    finetune: FinetuneRecord | None = None
    unseen_sources: dict[str, SourceFigures] | None = None
    unseen_calibration: Calibration | None = None  # over every unseen source's digits
    leave_one_site_out: list[SiteFolds] | None = None  # one per size of model, smallest first
    # CVL's validation digits scanned again at fewer pixels across, by size ("16 px").
    scanned: dict[str, SourceFigures] | None = None
    # Held-out sources scanned black-and-white into a coarse grid, by source and grid
    # ("CVL valid, 16x16"), read as an upload is.
    coarse_scans: dict[str, SourceFigures] | None = None

    def __post_init__(self) -> None:
        datetime.fromisoformat(self.trained_at)  # ValueError names a date that is not one

    @classmethod
    def from_dict(cls, data: object) -> ModelMetrics:
        """Typed metrics from parsed JSON; ValueError names the first field that is wrong."""
        return _build(cls, data, "metrics")

    def to_dict(self) -> dict:
        """Plain JSON-ready data, the inverse of `from_dict`."""
        return dataclasses.asdict(self)

    def write(self, path: Path) -> None:
        """Write the metrics as JSON, atomically: a crash never leaves half a file behind."""
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        partial.replace(path)


def _build(kind: object, value: object, where: str) -> typing.Any:
    """`value` checked against the type `kind` (dataclasses built field by field)."""
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise ValueError(f"{where} should be an object, not {type(value).__name__}")
        hints = typing.get_type_hints(kind)
        fields = {}
        for field in dataclasses.fields(kind):
            if field.name in value:
                fields[field.name] = _build(hints[field.name], value[field.name], field.name)
            elif field.default is dataclasses.MISSING:
                raise ValueError(f"{where} has no {field.name!r}")
        return kind(**fields)
    if origin is types.UnionType:  # X | None
        if value is None:
            return None
        (inner,) = (argument for argument in arguments if argument is not type(None))
        return _build(inner, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{where} should be a list, not {type(value).__name__}")
        return [_build(arguments[0], item, where) for item in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where} should be an object, not {type(value).__name__}")
        return {
            str(key): _build(arguments[1], item, f"{where}.{key}") for key, item in value.items()
        }
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind in (int, str) and type(value) is kind:
        return value
    raise ValueError(f"{where} should be {getattr(kind, '__name__', kind)}, not {value!r}")

"""Stored labels written out as CSV, as an MNIST-style .npz training set, or as arrays.

Plain functions over an iterator of StoredLabel (FeedbackStore.rows gives one). The CSV and
the .npz come out as a stream of chunks: however many labels there are, only a chunk of
rows is in memory at a time, besides 7 bytes per label for the .npz's small arrays.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import zipfile
from array import array
from collections.abc import Iterable, Iterator

import numpy as np

from feedback.labels import IMAGE_SHAPE
from feedback.store import StoredLabel

MIN_FEEDBACK = 10  # labelled drawings needed before fine-tuning on them means anything

CSV_COLUMNS = (
    "time",
    "session_id",
    "drawing_id",
    "predicted_digit",
    "confidence",
    "true_digit",
    "correct",
    "refused",
    "pixels",
    "strokes",
)
ROWS_PER_CHUNK = 200  # CSV rows per chunk handed out


def csv_chunks(rows: Iterable[StoredLabel]) -> Iterator[bytes]:
    """UTF-8 CSV, header first; `pixels` holds the 784 input bytes in base64."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(
            [
                row.created_at.isoformat(),
                row.session_id,
                row.drawing_id,
                row.predicted_digit,
                f"{row.confidence:.6f}",
                row.true_digit,
                int(row.correct),
                int(row.refused),
                base64.b64encode(row.image.tobytes()).decode("ascii"),
                row.strokes or "",
            ]
        )
        if count % ROWS_PER_CHUNK == 0:
            yield _take(buffer).encode()
    yield _take(buffer).encode()


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


class _ChunkSink(io.RawIOBase):
    """A write-only, unseekable stream whose output is collected until taken."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def npz_chunks(rows: Iterable[StoredLabel], count: int) -> Iterator[bytes]:
    """A compressed .npz as np.savez_compressed writes it: x (N, 28, 28) uint8 as in MNIST,
    y (N,) true digits, predicted (N,) uint8, confidence (N,) float32 and refused (N,) bool
    (the page gave no digit; `predicted` is then the digit the model leaned to).

    `count` is how many rows to write (the .npy header needs it first); rows past it, saved
    while the export runs, are left for the next one.
    """
    sink = _ChunkSink()
    true_digits, predicted_digits, confidences = array("B"), array("B"), array("f")
    refusals = array("B")
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("x.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(
                member,
                {"descr": "|u1", "fortran_order": False, "shape": (count, *IMAGE_SHAPE)},
            )
            written = 0
            for row in itertools.islice(rows, count):
                member.write(row.image.tobytes())
                true_digits.append(row.true_digit)
                predicted_digits.append(row.predicted_digit)
                confidences.append(row.confidence)
                refusals.append(row.refused)
                written += 1
                if written % ROWS_PER_CHUNK == 0:
                    yield sink.take()
            if written != count:
                raise RuntimeError(f"Expected {count} stored labels, read {written}.")
        for name, values, dtype in (
            ("y", true_digits, np.uint8),
            ("predicted", predicted_digits, np.uint8),
            ("confidence", confidences, np.float32),
            ("refused", refusals, np.bool_),
        ):
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.frombuffer(values, dtype=dtype))
    yield sink.take()


def training_arrays(rows: Iterable[StoredLabel]) -> tuple[np.ndarray, np.ndarray]:
    """x (N, 28, 28) uint8 inputs and y (N,) true digits, for fine-tuning."""
    images, true_digits = [], array("B")
    for row in rows:
        images.append(row.image)
        true_digits.append(row.true_digit)
    x = np.stack(images) if images else np.zeros((0, *IMAGE_SHAPE), np.uint8)
    return x, np.frombuffer(true_digits, dtype=np.uint8).copy()

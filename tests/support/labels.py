"""Labelled drawings as the page saves them, for the feedback store's tests."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from feedback import database as feedback_database
from feedback import labels as feedback_labels
from feedback import schema as feedback_schema
from feedback.labels import LabelledDrawing

LABELS_PER_WRITER = 100


def canvas_drawing(digit: np.ndarray, height: float = 180.0) -> tuple[np.ndarray, dict]:
    """A digit drawn on the 280x280 canvas: the app's 28x28 input and Fabric-style json_data."""
    # Imported here so that writer processes, which import this module, start quickly.
    from preprocess import canvas_to_ink, normalize
    from training.canvas_drawings import centre_line, draw

    segments = centre_line(digit.astype(np.float32) / 255.0)
    brush = 18.0
    image = normalize(canvas_to_ink(draw(segments, height, 50, 60, brush, "black on transparent")))
    scale = height / 28
    path = []
    for r0, c0, r1, c1 in segments:
        path.append(["M", round(60 + c0 * scale, 1), round(50 + r0 * scale, 1)])
        path.append(["L", round(60 + c1 * scale, 1), round(50 + r1 * scale, 1)])
    strokes = {
        "version": "5.3.0",
        "objects": [
            {
                "type": "path",
                "stroke": "#000000",
                "strokeWidth": brush,
                "strokeLineCap": "round",
                "fill": None,
                "path": path,
            }
        ],
        "background": "",
    }
    return image, strokes


def label_for(drawing, session_id="session-a", predicted=None, **changes) -> LabelledDrawing:
    image, strokes, true_digit = drawing
    fields = dict(
        session_id=session_id,
        predicted_digit=true_digit if predicted is None else predicted,
        confidence=0.93,
        true_digit=true_digit,
        image=image,
        strokes=strokes,
    )
    return LabelledDrawing(**(fields | changes))


def make_earlier_table(url: str, drawing) -> None:
    """The feedback table as the release before made it, holding one label of `drawing`."""
    table = sa.Table(
        "digit_feedback",
        sa.MetaData(),
        *(
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, unique=True)
            if c.unique
            else sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in feedback_schema.feedback_table.columns
            if c.name not in ("refused", "forgotten")
        ),
    )
    earlier = feedback_database.create_engine(url)
    with earlier.begin() as connection:
        table.create(connection)
        row = feedback_labels.validate_label(label_for(drawing))
        del row["refused"]
        connection.execute(sa.insert(table).values(**row))
    earlier.dispose()

"""The feedback database's tables, in SQLAlchemy Core for SQLite and PostgreSQL alike, and
how they are made and brought up to date.

On PostgreSQL, which every replica of the app shares, two more tables keep what the
replicas must agree on: the download links (`download_link`) and the moments counted by
the save and owner-guess limits (`rate_event`). A SQLite file belongs to one machine, so
with SQLite those stay in the process's memory (`downloads`, `rate_limit`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable

from feedback.labels import MAX_SESSION_ID_LENGTH

SCHEMA_LOCK_KEY = 0x6469676974  # PostgreSQL advisory lock: one replica creates the schema

metadata = sa.MetaData()
feedback_table = sa.Table(
    "digit_feedback",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("drawing_id", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("session_id", sa.String(MAX_SESSION_ID_LENGTH), nullable=False),
    sa.Column("predicted_digit", sa.SmallInteger, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("true_digit", sa.SmallInteger, nullable=False),
    sa.Column("image", sa.LargeBinary, nullable=False),
    sa.Column("strokes", sa.Text, nullable=True),
    # The page gave no digit ("Not a digit", "Too small"): predicted_digit is only the digit
    # the model leaned to. Added after the table's first release (see _add_missing_columns).
    sa.Column("refused", sa.Boolean, nullable=False, server_default=sa.false()),
    # The person asked the Draw tab to forget it: kept for training and History, no longer an
    # example of their handwriting. Added later too.
    sa.Column("forgotten", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("predicted_digit BETWEEN 0 AND 9", name="predicted_digit_is_a_digit"),
    sa.CheckConstraint("true_digit BETWEEN 0 AND 9", name="true_digit_is_a_digit"),
    sa.CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_is_a_probability"),
    sa.CheckConstraint("length(image) = 784", name="image_is_28x28_bytes"),
    sa.Index("ix_digit_feedback_created_at", "created_at"),
    sa.Index("ix_digit_feedback_session_created_at", "session_id", "created_at"),
)
# What every replica must agree on, kept on PostgreSQL only (see the module's docstring).
download_link_table = sa.Table(
    "download_link",
    metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("whose", sa.String(MAX_SESSION_ID_LENGTH), nullable=True),  # None: everyone's
    sa.Column("requester", sa.String(MAX_SESSION_ID_LENGTH), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),  # seconds since the epoch
    sa.Index("ix_download_link_requester", "requester"),
    sa.Index("ix_download_link_expires_at", "expires_at"),
)
rate_event_table = sa.Table(
    "rate_event",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("limit_name", sa.String(32), nullable=False),
    sa.Column("session_id", sa.String(MAX_SESSION_ID_LENGTH), nullable=False),
    sa.Column("at", sa.Float, nullable=False),  # seconds since the epoch
    sa.Index("ix_rate_event_limit_at", "limit_name", "at"),
    sa.Index("ix_rate_event_limit_session_at", "limit_name", "session_id", "at"),
)


def create_tables(connection: sa.Connection, tables: list[sa.Table]) -> None:
    """Create the tables and their indexes where missing, and add the feedback table's newer
    columns to one made by an earlier release."""
    for table in tables:
        connection.execute(CreateTable(table, if_not_exists=True))
        for index in table.indexes:
            connection.execute(CreateIndex(index, if_not_exists=True))
    _add_missing_columns(connection)


def _add_missing_columns(connection: sa.Connection) -> None:
    """Give a feedback table made by an earlier release the columns added since, with their
    defaults: its rows are kept and read as they were."""
    preparer = connection.dialect.identifier_preparer
    there = _column_names(connection)
    # Every column added since has a server default, which the rows already there take.
    for column in [column for column in feedback_table.columns if column.name not in there]:
        kind = column.type.compile(dialect=connection.dialect)
        default = column.server_default.arg.compile(dialect=connection.dialect)
        try:
            connection.exec_driver_sql(
                f"ALTER TABLE {preparer.format_table(feedback_table)} ADD COLUMN "
                f"{preparer.format_column(column)} {kind} NOT NULL DEFAULT {default}"
            )
        except sa.exc.OperationalError:
            # Another process opening the same SQLite file at once added it first. PostgreSQL
            # replicas take turns under the schema's lock, and a failed statement there
            # ends the transaction: its error is the one to report.
            if connection.dialect.name != "sqlite" or column.name not in _column_names(connection):
                raise


def _column_names(connection: sa.Connection) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns(feedback_table.name)}

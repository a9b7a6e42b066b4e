"""The page's fixtures for every test here: the committed model's page under AppTest, a
stand-in canvas, and a SQLite file of each test's own for its labels."""

from tests.support.page_app import app, canvas, feedback_database  # noqa: F401 (fixtures)

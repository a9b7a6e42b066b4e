"""Helpers and fixtures shared by the test files: data sets that skip when absent, pictures and
readings made for the tests, the browser page's controls, and a throwaway PostgreSQL server."""

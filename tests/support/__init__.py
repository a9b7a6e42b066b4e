"""Helpers and fixtures shared by the test files: data sets that skip when absent, pictures and
readings made for the tests, the browser page's controls, the server's routes served on their
own over HTTP, and a throwaway PostgreSQL server."""

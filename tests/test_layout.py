"""The tree shows the architecture: three modules at the root, and packages whose imports
point one way (the page and the server use the reading pipeline and the model, never back)."""

from __future__ import annotations

import ast
import subprocess

from devtools import REPO_ROOT

ROOT_MODULES = {"webapp.py", "preprocess.py", "train_model.py"}

# What each part of the app may import from the project; anything not named is refused.
ALLOWED = {
    "preprocess": set(),
    "digit_model": {"preprocess"},
    "reading": {"digit_model", "preprocess"},
    "training": {"preprocess", "digit_model", "reading", "feedback"},
    "feedback": {"preprocess"},
    "server": {"digit_model", "reading", "feedback", "preprocess"},
    "tabs": {"digit_model", "reading", "feedback", "preprocess"},
}
PROJECT_PARTS = set(ALLOWED) | {"webapp", "train_model", "devtools", "tests", "benchmarks"}


def tracked_python_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return listed.stdout.split()


def project_imports(path: str) -> set[str]:
    """The top-level project parts a file imports, at any depth of the file."""
    tree = ast.parse((REPO_ROOT / path).read_text(), filename=path)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & PROJECT_PARTS


def part_of(path: str) -> str:
    return path.split("/")[0].removesuffix(".py")


def test_the_root_holds_only_the_entry_point_the_pipeline_and_training():
    root_modules = {path for path in tracked_python_files() if "/" not in path}
    assert root_modules == ROOT_MODULES


def test_imports_point_one_way():
    wrong = [
        f"{path} imports {imported}"
        for path in tracked_python_files()
        if part_of(path) in ALLOWED
        for imported in sorted(project_imports(path) - ALLOWED[part_of(path)] - {part_of(path)})
    ]
    assert wrong == []


def test_every_package_says_what_it_holds():
    for package in sorted(set(ALLOWED) - {"preprocess"}):
        docstring = ast.get_docstring(ast.parse((REPO_ROOT / package / "__init__.py").read_text()))
        assert docstring, f"{package}/__init__.py has no docstring"

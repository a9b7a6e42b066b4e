"""The page's own style and scripts, the files of tabs/static/, are what their names say: once
filled in as the page gets them, each script parses as JavaScript and each style sheet as CSS."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tabs.draw import page_head

FILLED = {  # each file, as the page gets it
    "page.css": page_head.PAGE_STYLE,
    "at_once.js": page_head.AT_ONCE_SCRIPT,
    "canvas.js": page_head.CANVAS_SCRIPT,
    "announcer.js": page_head.ANNOUNCER_SCRIPT,
    "focus.js": page_head.FOCUS_SCRIPT,
}
SCRIPTS = [name for name in FILLED if name.endswith(".js")]
STYLE_SHEETS = [name for name in FILLED if name.endswith(".css")]


@pytest.fixture(scope="module")
def node() -> str:
    """Node.js, which checks a script's syntax; a missing one fails the run under CI."""
    found = shutil.which("node")
    if found is None:
        problem = "Checking the page's scripts needs Node.js (node --check): apt-get install nodejs"
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return found


def css_problems(css: str) -> list[str]:
    """What keeps a style sheet from parsing: a bracket that does not pair up, a placeholder
    left unfilled, a declaration without its colon."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    css = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', css)
    problems = [f"unfilled placeholder {found!r}" for found in re.findall(r"\$[\w{}]*", css)]
    pairs = {"}": "{", ")": "(", "]": "["}
    opened: list[str] = []
    for character in css:
        if character in pairs.values():
            opened.append(character)
        elif character in pairs and (not opened or opened.pop() != pairs[character]):
            problems.append(f"unpaired {character!r}")
    problems += [f"unclosed {bracket!r}" for bracket in opened]
    for block in re.findall(r"\{([^{}]*)\}", css):
        for declaration in filter(str.strip, block.split(";")):
            if not re.match(r"\s*-{0,2}[a-zA-Z][a-zA-Z-]*\s*:", declaration):
                problems.append(f"not a declaration: {declaration.strip()!r}")
    return problems


def test_every_file_of_tabs_static_goes_to_the_page():
    assert sorted(path.name for path in page_head.STATIC.iterdir()) == sorted(FILLED)
    assert all(text in page_head.PAGE_HEAD for text in FILLED.values())


def test_each_file_opens_with_a_comment_for_its_readers_that_the_page_goes_without():
    for name in FILLED:
        source = (page_head.STATIC / name).read_text(encoding="utf-8")
        first_line, second_line = source.splitlines()[:2]
        assert first_line == "/*", name
        assert second_line.startswith(" * ") and second_line not in page_head.PAGE_HEAD, name


@pytest.mark.parametrize("name", SCRIPTS)
def test_each_script_parses_as_javascript(name, node, tmp_path):
    script = tmp_path / name
    script.write_text(FILLED[name], encoding="utf-8")
    checked = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("name", STYLE_SHEETS)
def test_each_style_sheet_parses_as_css(name):
    assert css_problems(FILLED[name]) == []


@pytest.mark.parametrize(
    "broken", ["a { color: red; ", "a { color red; }", "a { color: $colour; }", "a:is(.b { }"]
)
def test_the_css_check_finds_what_would_not_parse(broken):
    assert css_problems(broken)

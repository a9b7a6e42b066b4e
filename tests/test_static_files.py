"""The page's own style and scripts, the files of tabs/static/, are what their names say: once
filled in as the page gets them, each script parses as JavaScript and each style sheet as CSS."""

from __future__ import annotations

import json
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
    "table_text.js": page_head.TABLE_TEXT_SCRIPT,
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


# at_once.js run under Node, with a fake clock for the page's timers and the window, document
# and root it listens on; prints what each case gave, as JSON.
AT_ONCE_CASES = r"""
const pending = new Map();  // the fake clock's timers, in the order set
let nextId = 1;
globalThis.window = globalThis;
window.setTimeout = (callback, delay, ...rest) => {
  pending.set(nextId, () => callback(...rest));
  return nextId++;
};
window.clearTimeout = (id) => pending.delete(id);
const fakeSetTimeout = window.setTimeout;
const reported = [];
globalThis.reportError = (error) => reported.push(error.message);
const listeners = {window: {}, root: {}};
const listen = (where) => (type, listener) => { listeners[where][type] = listener; };
window.addEventListener = listen("window");
globalThis.document = {getElementById: () => ({addEventListener: listen("root")})};
const tick = () => {  // the clock goes on: every timer set runs, in order
  for (const [id, run] of pending) { pending.delete(id); run(); }
};
const onRow = {target: {closest: () => ({})}};  // an event on the feedback row

eval(SCRIPT);
const cases = {};
let log = [];
window.digitAtOnce(() => {
  setTimeout(() => log.push("zero"));
  setTimeout(() => log.push("later"), 10);
});
cases.atOnce = [...log];
tick();
cases.afterTick = log;

log = [];
window.digitAtOnce(() => {
  setTimeout(() => log.push("a"));
  window.digitAtOnce(() => setTimeout(() => log.push("b")));
  setTimeout(() => log.push("c"));
});
cases.nested = log;

log = [];
window.digitAtOnce(() => {
  setTimeout(() => { throw new Error("broken"); });
  setTimeout(() => log.push("after"));
  clearTimeout(setTimeout(() => log.push("cleared")));
});
tick();
cases.thrownAndCleared = [log, reported];

log = [];
listeners.window.click(onRow);
setTimeout(() => log.push("handler"));
listeners.root.click(onRow);
cases.click = [...log];
tick();
cases.clickAfterTick = log;

log = [];
listeners.window.click(onRow);
setTimeout(() => log.push("handler"));
tick();
cases.clickNeverAtRoot = log;
cases.restored = window.setTimeout === fakeSetTimeout;
console.log(JSON.stringify(cases));
"""


def test_at_once_runs_the_zero_delay_timers_set_during_a_hand_over_or_a_click_once(node, tmp_path):
    """Each zero-delay timer set while a stroke is handed over, or while a click on the feedback
    row is handled, runs once, as soon as that is over: a nested hand-over, a timer that
    throws or one cleared first lose no other; later timers keep their time; a click that
    never reaches the root still ends its catch."""
    harness = tmp_path / "at_once_cases.js"
    script = json.dumps(page_head.AT_ONCE_SCRIPT)
    harness.write_text(f"const SCRIPT = {script};\n{AT_ONCE_CASES}", encoding="utf-8")
    ran = subprocess.run([node, str(harness)], capture_output=True, text=True, check=True)
    cases = json.loads(ran.stdout)
    assert cases["atOnce"] == ["zero"]
    assert cases["afterTick"] == ["zero", "later"]
    assert cases["nested"] == ["a", "b", "c"]
    assert cases["thrownAndCleared"] == [["after"], ["broken"]]
    assert cases["click"] == ["handler"]
    assert cases["clickAfterTick"] == ["handler"]
    assert cases["clickNeverAtRoot"] == ["handler"]
    assert cases["restored"]

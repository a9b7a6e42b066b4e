"""Peak memory of a server process while photo uploads decode: one at a time and 8 at once.

Each measurement runs in a fresh Python process that imports `photo` (as the server has),
then reads the same worst-case upload from 1 or 8 threads at once (8 sessions uploading
together), and reports the growth of its peak resident memory (VmHWM) over what it held
before, and what it still holds afterwards. The worst cases are the largest pictures
accepted, in the forms that cost most to decode, and the 7000x7000 PNG that used to pass.

    python benchmarks/bench_uploads.py [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CONCURRENT = 8


def worst_case(kind: str) -> bytes:
    """A blank page with one thick stroke, in the named form, at the largest size accepted."""
    side = {"webp": 2400, "bomb-png": 7000}.get(kind, 5000)
    rows, columns = slice(side // 3, side // 3 + side // 25), slice(side // 4, 3 * side // 4)
    buffer = io.BytesIO()
    if kind in ("rgba-png", "bomb-png", "webp"):
        pixels = np.zeros((side, side, 4), np.uint8)
        pixels[rows, columns] = (0, 0, 0, 255)
        picture = Image.fromarray(pixels)
        if kind == "webp":
            picture.save(buffer, "WEBP", lossless=True)
        else:
            picture.save(buffer, "PNG")
    elif kind == "palette-png":
        picture = Image.new("P", (side, side), 0)
        picture.putpalette([255, 255, 255, 0, 0, 0])
        picture.paste(1, (columns.start, rows.start, columns.stop, rows.stop))
        picture.save(buffer, "PNG", transparency=0)
    elif kind == "grey16-png":
        pixels = np.full((side, side), 60_000, np.uint16)
        pixels[rows, columns] = 100
        Image.fromarray(pixels).save(buffer, "PNG")
    elif kind == "progressive-jpeg":
        pixels = np.full((side, side, 3), 230, np.uint8)
        pixels[rows, columns] = 20
        Image.fromarray(pixels).save(buffer, "JPEG", progressive=True, subsampling=0, quality=90)
    else:
        raise ValueError(kind)
    return buffer.getvalue()


KINDS = ("rgba-png", "palette-png", "grey16-png", "progressive-jpeg", "webp", "bomb-png")


def memory_mb(field: str) -> float:
    """VmRSS or VmHWM of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure(kind: str, uploads: int) -> dict:
    """Inside a fresh process: read `uploads` copies of one worst case at once."""
    sys.path.insert(0, str(ROOT))
    from reading import photo

    data = worst_case(kind)
    before = memory_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
    outcomes: list[str] = []

    def upload() -> None:
        try:
            photo.read_upload(data)
            outcomes.append("read")
        except photo.PhotoError as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=upload) for _ in range(uploads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "file_kb": len(data) / 1024,
        "peak_growth_mb": memory_mb("VmHWM") - before,
        "held_after_mb": memory_mb("VmRSS") - before,
        "outcomes": sorted(set(outcomes)),
    }


def run_fresh(kind: str, uploads: int) -> dict:
    """`measure` in a new interpreter, so that no run inherits another's heap."""
    command = [sys.executable, __file__, "--child", kind, str(uploads)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per measurement")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]))))
        return

    print(f"Median of {args.runs} fresh processes; growth over the process's memory before.")
    print(f"{'upload':18} {'file':>8}  {'1 upload: peak':>14}  {'8 at once: peak':>15}  held after")
    for kind in KINDS:
        single = [run_fresh(kind, 1) for _ in range(args.runs)]
        many = [run_fresh(kind, CONCURRENT) for _ in range(args.runs)]
        print(
            f"{kind:18} {single[0]['file_kb']:6.0f} kB"
            f"  {statistics.median(r['peak_growth_mb'] for r in single):11.0f} MB"
            f"  {statistics.median(r['peak_growth_mb'] for r in many):12.0f} MB"
            f"  {statistics.median(r['held_after_mb'] for r in many):6.0f} MB"
            f"  {', '.join(many[0]['outcomes'])}"
        )


if __name__ == "__main__":
    main()

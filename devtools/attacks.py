"""Issue 71's attacks on the page's WebSocket, built without a browser (the tests and
benchmarks/bench_attack_memory.py send them): a canvas value whose PNG claims a huge
picture, and a message larger than the server takes; and the server's peak resident memory
under them, read from Linux's /proc."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path

from devtools.canvas_json import FABRIC_VERSION
from preprocess import CANVAS_PNG_FORM, PNG_SIGNATURE

ROWS_PER_CALL = 100  # rows handed to zlib at once while a blank picture is compressed
PLACEHOLDER = "padding goes here"
NUMBER = "0.5,"  # one number of a padding of numbers, as JSON writes it in a list


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: its length, kind, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(width: int, height: int) -> bytes:
    """A real, valid PNG of a white `width` x `height` RGBA picture: a few hundred kB to send
    however large, and `width * height * 4` bytes once decoded."""
    header = struct.pack(">IIBBBBB", width, height, *CANVAS_PNG_FORM, 0, 0, 0)
    compressor = zlib.compressobj(9)
    rows = (b"\x00" + b"\xff" * 4 * width) * ROWS_PER_CALL  # each row: filter "none", pixels
    pixels = [compressor.compress(rows) for _ in range(height // ROWS_PER_CALL)]
    pixels.append(compressor.compress(rows[: (height % ROWS_PER_CALL) * (4 * width + 1)]))
    pixels.append(compressor.flush())
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"".join(pixels))
        + png_chunk(b"IEND", b"")
    )


def canvas_value(png: bytes, padding: int = 0, numbers: bool = False) -> str:
    """The canvas component's JSON value as the browser sets it, holding this PNG and an empty
    drawing; `padding` characters more in the drawing, to make a message of a given size: one
    string, or with `numbers` a list of numbers (what costs the server most to parse)."""
    drawing = {"version": FABRIC_VERSION, "objects": [], "background": "#ffffff"}
    if padding:
        drawing["padding"] = PLACEHOLDER
    data_url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    value = json.dumps({"drawing": {"raw": drawing, "data": data_url}}, separators=(",", ":"))
    if not padding:
        return value
    count = max(padding // len(NUMBER), 1)
    filler = f"[{NUMBER * (count - 1)}{NUMBER[:-1]}]" if numbers else f'"{"x" * padding}"'
    return value.replace(f'"{PLACEHOLDER}"', filler, 1)


def listening_pid(port: int) -> int:
    """The process listening on this TCP port of the machine (the server's own)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if fd.readlink().as_posix() in inodes:
                return int(fd.parts[2])
        except OSError:
            continue
    raise LookupError(f"nothing listens on port {port}")


def reset_peak_resident(pid: int) -> None:
    """Start the process's peak resident memory again from what it holds now."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_resident_mib(pid: int) -> float:
    """The most resident memory the process has held, in MiB, since it started or since
    `reset_peak_resident`."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no process {pid}")

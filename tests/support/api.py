"""Requests to the HTTP API as a script sends them, for the tests of the API."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

FIRST_ANSWER_S = 120  # the first request may wait for the server to load the model
BOUNDARY = "digit-reader-test-boundary"


def post(
    url: str, data: bytes, content_type: str | None = "image/png", query: str = ""
) -> tuple[int, dict]:
    """POST to /api/predict: the status and the JSON answer."""
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(f"{url}/api/predict{query}", data, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=FIRST_ANSWER_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def form(
    data: bytes, field: str = "image", part_type: str = "image/png", **fields: str
) -> tuple[bytes, str]:
    """A multipart/form-data body with one file and these text fields, and its Content-Type."""
    head = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    head += (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="digit.png"\r\n'
        f"Content-Type: {part_type}\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def slow_client(url: str, data: bytes) -> socket.socket:
    """A connection that sends a request's headers and 10 bytes of its body, then stalls."""
    address = urlsplit(url)
    client = socket.create_connection((address.hostname, address.port), timeout=60)
    client.sendall(
        f"POST /api/predict HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: image/png\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data[:10]
    )
    return client


def answer_before_close(client: socket.socket) -> bytes:
    """Everything the server sends on a connection until it closes it."""
    received = b""
    while chunk := client.recv(4096):
        received += chunk
    return received

"""The network side of webhooks: resolve a host once, and POST to the very address
that was checked (the name kept for TLS's SNI, the certificate and `Host`).

A general HTTP client would resolve the name again (DNS rebinding slips in between),
read the whole answer (a hostile receiver fills the memory), and count its timeout per
socket read (a receiver answering one byte every few seconds holds a worker for
ever). Here one deadline covers everything, enforced twice: every socket operation
waits at most what is left, and a watchdog shuts the socket down when it passes."""

import contextlib
import ipaddress
import logging
import socket
import ssl
import threading
import time

from shared.domain.webhooks import Endpoint, IPAddress

logger = logging.getLogger("skills_link.webhooks")

MAX_ANSWER_BYTES = 4096
"""The status line and headers; the body is never read."""


class Unresolvable(Exception):
    """The host has no address now (a failed attempt, not a refused endpoint)."""


def resolve(endpoint: Endpoint) -> list[IPAddress]:
    if endpoint.address is not None:
        return [endpoint.address]
    try:
        infos = socket.getaddrinfo(endpoint.host, endpoint.port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise Unresolvable(endpoint.host) from error
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise Unresolvable(endpoint.host)
    return found


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self.at - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the delivery's deadline passed")
        return remaining


def _request(endpoint: Endpoint, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {endpoint.target} HTTP/1.1",
        f"Host: {endpoint.host_header}",
        "User-Agent: skills-link-webhooks",
        "Connection: close",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    if any("\r" in line or "\n" in line for line in lines):
        raise ValueError("a header holds a line break")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


def _status(sock: socket.socket, deadline: _Deadline) -> int | None:
    """The answer's status, once its headers are complete within 4 KiB; None if not."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        if len(answer) >= MAX_ANSWER_BYTES:
            return None
        sock.settimeout(deadline.left())
        chunk = sock.recv(MAX_ANSWER_BYTES - len(answer))
        if not chunk:
            return None
        answer += chunk
    words = answer.split(b"\r\n", 1)[0].split(b" ")
    if len(words) < 2 or not words[0].startswith(b"HTTP/1.") or not words[1].isdigit():
        return None
    return int(words[1])


def _shut(holder: list[socket.socket]) -> None:
    # The base class's shutdown: on a TLS socket it wakes the blocked read without
    # touching the TLS object the other thread is using.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(holder[0], socket.SHUT_RDWR)


def post(
    endpoint: Endpoint, address: IPAddress, body: bytes, headers: dict[str, str], seconds: float
) -> bool:
    """One POST to `address`, never following a redirect (a 3xx is a failure); True for
    a 2xx answer whose headers arrived within the deadline and 4 KiB."""
    deadline = _Deadline(seconds)
    holder: list[socket.socket] = []
    watchdog: threading.Timer | None = None
    try:
        sock = socket.create_connection((str(address), endpoint.port), timeout=deadline.left())
        holder.append(sock)
        watchdog = threading.Timer(deadline.left(), _shut, (holder,))
        watchdog.daemon = True
        watchdog.start()
        if endpoint.scheme == "https":
            tls = ssl.create_default_context().wrap_socket(
                sock, server_hostname=endpoint.host, do_handshake_on_connect=False
            )
            holder[0] = sock = tls
            tls.settimeout(deadline.left())
            tls.do_handshake()
        sock.settimeout(deadline.left())
        sock.sendall(_request(endpoint, body, headers))
        status = _status(sock, deadline)
    except (OSError, ValueError) as error:
        logger.warning("Webhook delivery failed: %s", type(error).__name__)
        return False
    finally:
        if watchdog is not None:
            watchdog.cancel()
        for opened in holder:
            opened.close()
    if status is None:
        logger.warning("Webhook delivery failed: no complete answer within 4 KiB")
        return False
    return 200 <= status < 300

"""Loopback helpers for the server fixtures: every server in the tests binds 127.0.0.1 only."""

from __future__ import annotations

import socket

import httpx

from .waiting import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 60.0) -> None:
    """Until `url` answers with anything below 500 (a server still loading says 503)."""

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=1.0).status_code < 500
        except httpx.HTTPError:
            return False

    wait_until(answers, f"{url} to come up", timeout, every=0.2)

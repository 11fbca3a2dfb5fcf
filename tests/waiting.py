"""Waiting for another process to reach a state: poll the state itself, with a generous deadline, and
fail saying what never happened. Never a fixed sleep: a loaded CI machine outlasts any delay."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(state: Callable[[], T], what: str, timeout: float = 120.0, every: float = 0.01) -> T:
    """`state()` until it returns something truthy, which is returned; TimeoutError naming `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (reached := state()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(every)
    return reached

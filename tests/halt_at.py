"""Run the `rag` command line, halted at a named point of its code: the crash tests' way to stop a real
`rag index` exactly where they mean to, however fast or loaded the machine is.

    python tests/halt_at.py MODULE:QUALNAME before|after N kill|stop -- index FOLDER --index DIR

wraps the function QUALNAME of MODULE (e.g. `rag.store:Store.put_pages`) so that, before or after
its N-th call, the process sends itself SIGKILL (a crash: nothing is flushed, no handler runs) or
SIGSTOP (it holds whatever it holds until the test sends SIGCONT). If the run never makes that call,
it completes normally: the test sees that it was not killed."""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys


def halt_at(target: str, when: str, nth: int, action: str) -> None:
    module_name, qualname = target.split(":")
    owner = importlib.import_module(module_name)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    calls = 0
    halt = signal.SIGKILL if action == "kill" else signal.SIGSTOP

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        nonlocal calls
        calls += 1
        if when == "before" and calls == nth:
            os.kill(os.getpid(), halt)
        result = original(*args, **kwargs)
        if when == "after" and calls == nth:
            os.kill(os.getpid(), halt)
        return result

    setattr(owner, name, wrapper)


if __name__ == "__main__":
    target, when, nth, action, dashes, *rag_args = sys.argv[1:]
    assert when in ("before", "after") and action in ("kill", "stop") and dashes == "--", sys.argv
    halt_at(target, when, int(nth), action)
    from rag.cli import main

    sys.argv = ["rag", *rag_args]
    main()

"""Running calls at the same moment, each in its own thread (so on PostgreSQL each on its own
connection), for the tests of what happens when two people act at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection


def at_once(*calls: Callable[[], Any], timeout: float = 30) -> list[Any]:
    """Run the calls in threads released together by a barrier; return each one's result, or
    the exception it raised, in the order of the calls.

    Each thread closes its database connection when done: a connection left open keeps the
    test database from being flushed or dropped. A thread still running after `timeout`
    seconds fails the test rather than leaving a hole in the results."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [i for i, thread in enumerate(threads) if thread.is_alive()]
    if stuck:
        raise AssertionError(f"calls {stuck} of {len(calls)} still running after {timeout} s")
    return results

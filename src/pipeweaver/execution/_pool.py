"""The action thread pool shared by every execution of one executor.

Layer: execution.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["ActionPool"]


class _PoolState:
    """What a pool's threads share: the work queue and the idle count (never the pool itself,
    so that a pool nobody holds is collected and its threads told to stop)."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.idle = 0  # threads up (or coming up) that no queued task has claimed
        self.unclaimed = 0  # tasks queued while every thread was busy and the pool full
        self.closed = False

    def stop(self) -> None:
        with self.lock:
            self.closed = True
        self.queue.put(None)  # each thread passes it on as it leaves

    def work(self) -> None:
        state = self
        while True:
            item = state.queue.get()
            if item is None:
                state.queue.put(None)
                return
            fn, args = item
            # As in ThreadPoolExecutor, a task's error stays with the task (_execute reports
            # every Exception as the action's failure) and the thread goes on.
            with contextlib.suppress(BaseException):
                fn(*args)
            del item, fn, args
            with state.lock:
                if state.unclaimed:
                    state.unclaimed -= 1
                else:
                    state.idle += 1


_POOLS: weakref.WeakSet[_PoolState] = weakref.WeakSet()
_register_atexit = getattr(threading, "_register_atexit", None)


def _stop_pools() -> None:
    # Before the interpreter joins its threads: idle ones leave, busy ones after their action
    # (EXITING, set next, tells shell commands and approvals to give up).
    for state in list(_POOLS):
        state.stop()


if _register_atexit is not None:
    _register_atexit(_stop_pools)


class ActionPool:
    """
    The executor's action threads: like ``ThreadPoolExecutor`` (threads made on demand up to a
    size, an action's error stays with the action, threads finish their action at interpreter
    exit), plus :meth:`prestart`.

    A thread start waits until the new thread runs, which on a busy machine can take a
    scheduler tick; ``ThreadPoolExecutor`` starts them one by one inside ``submit``, so the
    first wave of a fresh executor started its actions a few milliseconds apart (bench/run.py,
    critical path: the source stage). :meth:`prestart` makes a wave's threads while the engine
    prepares and writes that wave; ``submit`` never waits for a thread start it can avoid.
    """

    def __init__(self, size: int, prefix: str) -> None:
        self._size = size
        self._prefix = prefix
        self._state = _PoolState()
        self._threads: list[threading.Thread] = []
        self._count = 0  # threads started or reserved
        _POOLS.add(self._state)
        weakref.finalize(self, self._state.stop)

    def _spawn(self, number: int) -> None:
        thread = threading.Thread(
            target=self._state.work, name=f"{self._prefix}_{number}", daemon=_register_atexit is None
        )
        thread.start()
        self._threads.append(thread)

    def prestart(self, count: int) -> None:
        """Start threads until there are *count* (at most the pool's size)."""
        state = self._state
        while True:
            with state.lock:
                if state.closed or self._count >= min(count, self._size):
                    return
                number = self._count
                self._count += 1
                state.idle += 1
            self._spawn(number)

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on a pool thread."""
        state = self._state
        with state.lock:
            if state.closed:
                raise RuntimeError("cannot schedule new actions after the executor was closed")
            state.queue.put((fn, args))
            if state.idle:
                state.idle -= 1
                return
            if self._count >= self._size:
                state.unclaimed += 1
                return
            number = self._count
            self._count += 1
        self._spawn(number)

    def shutdown(self, *, wait: bool = True, cancel_futures: bool = True) -> None:
        """Refuse new work, drop queued work (*cancel_futures*), and let the threads leave."""
        state = self._state
        with state.lock:
            state.closed = True
        if cancel_futures:
            with contextlib.suppress(queue.Empty):
                while True:
                    state.queue.get_nowait()
        state.stop()
        if wait:
            for thread in list(self._threads):
                if thread is not threading.current_thread():
                    thread.join()

"""The action threads shared by every execution of one executor, and the threads of condition rules.

Layer: execution. A small pool rather than ``concurrent.futures.ThreadPoolExecutor`` for one
reason, measured (bench/run.py, local run 20x25, side by side): a thread start waits until the
new thread runs, and ``ThreadPoolExecutor`` starts its threads one by one inside ``submit``, so
the first wave of a fresh executor paid 25 thread starts on the engine's critical path (about
a quarter of the whole run of 500 no-op actions). :meth:`ActionPool.prestart` starts a wave's
threads on the caller's thread while the engine prepares and writes that wave. ``submit`` takes
no future (the engine learns of an end through its completion queue).

How the threads end, without any private CPython hook:

- they are daemon threads, so the interpreter does not wait for them before running
  :mod:`atexit` handlers (a non-daemon idle thread would wait for work forever there);
- :meth:`ActionPool.shutdown`, called by ``LocalExecutor.close()`` and its context manager,
  refuses new work, drops queued work and joins every thread: running actions finish, and no
  pool thread is left afterwards;
- at interpreter exit an :func:`atexit.register` handler sets ``EXITING`` (shell commands and
  manual approvals give up on it) and shuts down every pool still open the same way, so a
  running action ends before the interpreter tears down, as with ``ThreadPoolExecutor``'s own
  exit hook; atexit handlers run after the interpreter joined its non-daemon threads and before
  daemon threads are stopped;
- a pool that nobody holds any more is stopped by a finalizer (its idle threads leave).

The rules of a stage condition run together, each on a thread of its own (:func:`run_each`,
on a pool of their own, so that a long rule never waits for an action thread): the same exit
handler joins them, so a rule running a shell command at interpreter exit ends its processes
instead of being frozen with them. ``concurrent.futures.ThreadPoolExecutor`` could not serve
here without a private hook: its workers are joined before :mod:`atexit` handlers run, so
``EXITING`` would be set too late for them to stop.
"""

from __future__ import annotations

import atexit
import contextlib
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ._shell import EXITING

__all__ = ["ActionPool", "run_each"]

T = TypeVar("T")
R = TypeVar("R")


class _PoolState:
    """What a pool's threads share: the work queue, the idle count and the threads (never the
    pool itself, so that a pool nobody holds is collected and its threads told to stop)."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]] | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.idle = 0  # threads up (or coming up) that no queued task has claimed
        self.unclaimed = 0  # tasks queued while every thread was busy and the pool full
        self.closed = False
        self.reserved = 0  # threads started or about to be
        self.threads: list[threading.Thread] = []  # threads started

    def stop(self, *, drop_queued: bool = True) -> None:
        """Refuse new work, drop queued work (*drop_queued*) and tell the threads to leave."""
        with self.lock:
            self.closed = True
        if drop_queued:
            with contextlib.suppress(queue.Empty):
                while True:
                    self.queue.get_nowait()
        self.queue.put(None)  # each thread passes it on as it leaves

    def join(self) -> None:
        """Wait until every thread has left (a running task ends first)."""
        while True:
            with self.lock:
                threads = list(self.threads)
                complete = len(threads) == self.reserved
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()
            if complete:
                return
            time.sleep(0.001)  # a thread reserved before the stop is still being started

    def work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                self.queue.put(None)
                return
            fn, args = item
            # As in ThreadPoolExecutor, a task's error stays with the task (Attempts.execute
            # reports every one as the action's failure) and the thread goes on.
            with contextlib.suppress(BaseException):
                fn(*args)
            del item, fn, args
            with self.lock:
                if self.unclaimed:
                    self.unclaimed -= 1
                else:
                    self.idle += 1


_OPEN: weakref.WeakSet[_PoolState] = weakref.WeakSet()


@atexit.register
def _at_exit() -> None:
    EXITING.set()
    states = list(_OPEN)
    for state in states:
        state.stop()
    for state in states:
        state.join()


class ActionPool:
    """The executor's action threads: made on demand up to *size* (or ahead with
    :meth:`prestart`) and reused; a task's error stays with the task."""

    def __init__(self, size: int, prefix: str) -> None:
        self._size = size
        self._prefix = prefix
        self._state = _PoolState()
        _OPEN.add(self._state)
        weakref.finalize(self, self._state.stop)

    def _spawn(self, number: int) -> None:
        state = self._state
        thread = threading.Thread(target=state.work, name=f"{self._prefix}_{number}", daemon=True)
        # Started outside the lock: a start waits until the new thread runs, and submit should
        # not wait for that.
        try:
            thread.start()
        finally:
            with state.lock:
                if thread.ident is not None:
                    state.threads.append(thread)
                else:
                    state.reserved -= 1

    def prestart(self, count: int) -> None:
        """Start threads until there are *count* (at most the pool's size)."""
        state = self._state
        while True:
            with state.lock:
                if state.closed or state.reserved >= min(count, self._size):
                    return
                number = state.reserved
                state.reserved += 1
                state.idle += 1
            self._spawn(number)

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on a pool thread (``RuntimeError`` once the pool is shut down)."""
        state = self._state
        with state.lock:
            if state.closed:
                raise RuntimeError("cannot start new actions after the executor was closed")
            state.queue.put((fn, args))
            if state.idle:
                state.idle -= 1
                return
            if state.reserved >= self._size:
                state.unclaimed += 1
                return
            number = state.reserved
            state.reserved += 1
        self._spawn(number)

    def shutdown(self) -> None:
        """Refuse new work, drop queued work and wait until every thread has left."""
        self._state.stop()
        self._state.join()
        _OPEN.discard(self._state)

    @property
    def threads(self) -> list[threading.Thread]:
        """The pool's threads (alive or not)."""
        with self._state.lock:
            return list(self._state.threads)


def run_each(fn: Callable[[T], R], items: Sequence[T], prefix: str) -> list[R]:
    """``[fn(item) for item in items]``, each call on a thread of its own, all at once.

    Returns when every call has returned; the first call (in *items* order) that raised has its
    error raised here. The threads are an :class:`ActionPool`'s, so interpreter exit waits for
    them (after setting ``EXITING``), and they are gone when this returns.
    """
    results: dict[int, R] = {}
    errors: dict[int, BaseException] = {}
    done: queue.SimpleQueue[int] = queue.SimpleQueue()

    def call(index: int, item: T) -> None:
        try:
            results[index] = fn(item)
        except BaseException as exc:  # handed to the caller, as Future.result() would
            errors[index] = exc
        finally:
            done.put(index)

    pool = ActionPool(len(items), prefix)
    try:
        for index, item in enumerate(items):
            pool.submit(call, index, item)
        for _ in items:
            done.get()
    finally:
        pool.shutdown()
    if errors:
        raise errors[min(errors)]
    return [results[index] for index in range(len(items))]

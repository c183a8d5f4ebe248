"""Calls into a driver that may block longer than a request should wait, made in a thread of
this process and given up on at a bound.

What no driver bounds is the host name's lookup before it connects: psycopg's
`connect_timeout` and redis-py's `socket_connect_timeout` start once there is an address, and a
lookup the DNS never answers waits for the resolver's own timeouts (podman's aardvark-dns drops
queries while a container starts: 10 s measured, beside the replicas under compose). The
features that reach a database (keys, rate limits) make those calls through `within`.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial

THREADS = 4  # the calls one process may have hanging at once; more wait in its queue

_executor = (None, None)  # (pid, executor): one made before a fork has no threads in the child
_hanging = {}  # the `once` names of calls given up on that still run -> the pid that made them


def within(seconds, work, *args, late=None, once=None, **kwargs):
    """What `work(*args, **kwargs)` returns, if it does within `seconds`. Past them it is left
    to end in its thread, and `late`, if given, is called with what it returns then (to close
    a connection no one waits for); a call that had not started yet is dropped, so that calls
    to a dead DNS do not pile up behind each other. `once` names the call: while one of that
    name given up on still runs, none is made again, and a dead DNS costs the request that
    found it the bound, not every request after it.

    Raises TimeoutError past the bound, or at once while a call named `once` still hangs, and
    what `work` raises within the bound."""
    if once is not None and _hanging.get(once) == os.getpid():
        raise TimeoutError(f"the last {once} given up on has not ended yet")
    made = _this_process_executor().submit(work, *args, **kwargs)
    try:
        return made.result(timeout=max(0.0, seconds))
    except TimeoutError:
        if made.done():  # it ended as the wait did, or raised TimeoutError itself
            return made.result()
        if not made.cancel():
            if once is not None:
                _hanging[once] = os.getpid()
                made.add_done_callback(lambda _made: _hanging.pop(once, None))
            if late is not None:
                made.add_done_callback(partial(_hand_over, late))
        raise TimeoutError(f"no answer within {seconds:.2f} s") from None


def _hand_over(late, made):
    """Give what a call given up on returned to `late` (nothing when it raised)."""
    if made.exception() is None:
        late(made.result())


def _this_process_executor():
    """This process's executor, made on first use in it."""
    global _executor
    pid, executor = _executor
    if pid != os.getpid():
        executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="bounded")
        _executor = (os.getpid(), executor)
    return executor

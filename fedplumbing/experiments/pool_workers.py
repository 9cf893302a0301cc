"""Set-up of local process-pool workers (kept free of heavy imports).

A pool's initializer runs in each new worker before it takes any work. Importing pandas or
the model there would let the first worker to finish its imports take every task of a
short sweep, so this module imports only `signal`.
"""

from __future__ import annotations

import signal


def ignore_ctrl_c() -> None:
    """Make this (worker) process ignore Ctrl-C: the driver handles it and stops the pool.

    Without it, Ctrl-C in a terminal reaches every process of the group, and each idle
    pool worker printed its own KeyboardInterrupt traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

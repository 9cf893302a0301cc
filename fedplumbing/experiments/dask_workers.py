"""Worker set-up for the loopback Dask cluster that `--dask-local` starts.

Imported only when a sweep runs on Dask (it imports `distributed`).
"""

from __future__ import annotations

import signal
import threading

from distributed import WorkerPlugin


class IgnoreCtrlC(WorkerPlugin):
    """Make a worker process ignore SIGINT, restarted workers included.

    Ctrl-C in a terminal reaches every process of its group. The workers a `LocalCluster`
    starts inherit SIGINT ignored from the sweep's process, but a worker its nanny restarts
    (after a crash or `Client.restart`) starts with Python's handler again, and would print a
    `KeyboardInterrupt` traceback of its own. A worker plugin runs on every worker that joins,
    so the restarted ones ignore it too; only the sweep's process stops the sweep.
    """

    name = "fedplumbing-ignore-ctrl-c"

    def setup(self, worker: object) -> None:
        """Ignore SIGINT in this worker (handlers can be set from the main thread only)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)

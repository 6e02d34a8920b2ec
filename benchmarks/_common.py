"""Helpers the benchmark scripts share (not part of the slant package)."""

import multiprocessing as mp
from queue import Empty


def in_spawned_process(target, *args):
    """Run ``target(*args, queue)`` in a fresh spawned process and return what it put on
    `queue`: each measured step gets its own peak memory and nothing warm from the others."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    while True:  # a child that dies without answering ends the benchmark instead of hanging it
        try:
            out = queue.get(timeout=5)
            break
        except Empty:
            if not proc.is_alive():
                try:  # it may have answered between the wait and the check
                    out = queue.get(timeout=1)
                    break
                except Empty:
                    pass
                raise SystemExit(f"{target.__name__} failed (exit code {proc.exitcode}); its traceback is above") from None
    proc.join()
    return out

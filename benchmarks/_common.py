"""Helpers the benchmark scripts share (not part of the slant package)."""

import multiprocessing as mp


def in_spawned_process(target, *args):
    """Run ``target(*args, queue)`` in a fresh spawned process and return what it put on
    `queue`: each measured step gets its own peak memory and nothing warm from the others."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out

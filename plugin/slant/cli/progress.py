"""The progress display of `slant analyze --out DIR`: a rich bar with sentences/s and ETA on
a terminal, a plain line every few seconds otherwise (logs, CI, `nohup`)."""

import sys
import time

__all__ = ["CorpusProgress"]


class CorpusProgress:
    """A `slant.loop.corpus.analyze_corpus` progress callback; use as a context manager."""

    def __init__(self, stream=None, *, every=5.0):
        self.stream = stream or sys.stderr
        self.every = every
        self._bar = self._task = None
        self._began = self._last = None

    def __enter__(self):
        self._began = self._last = time.perf_counter()
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("analysing"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                 TextColumn("{task.description}"), TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), console=Console(file=self.stream), transient=True)
            self._task = self._bar.add_task("starting", total=None)
            self._bar.start()
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, done, total, result):
        """`done` and `total` are estimated sentences; `result` a `CorpusResult` so far."""
        now = time.perf_counter()
        rate = result.new_sentences / max(now - self._began, 1e-9)
        text = (f"{result.new_sentences:,} sentences, {rate:,.0f}/s, partitions {result.written + result.skipped}"
                f"/{result.partitions}")
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total, description=text)
        elif now - self._last >= self.every or result.written + result.skipped == result.partitions:
            self._last = now
            left = (total - done) / rate if rate > 0 else float("nan")
            print(f"analyze: {text}, ETA {left:,.0f} s", file=self.stream, flush=True)

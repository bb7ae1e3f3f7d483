"""Terminal niceties that never reach a pipe: the width tables fit, and a progress line on stderr.

Output written to a file or a pipe stays exactly as it is (tools and tests read it); only a
terminal (or ``COLUMNS``, which a user sets on purpose) narrows tables, and the progress line
appears only when stderr is a terminal outside CI.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

SPINNER = "|/-\\"
DELAY = 1.0  # seconds before the progress line appears: quick steps show nothing


def width(stream: TextIO | None = None) -> int | None:
    """Columns to fit: ``COLUMNS`` when set, else the terminal's when ``stream`` (stdout) is one, else None."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    stream = stream or sys.stdout
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        pass
    return None


def fit_columns(head: list[str], rows: list[list[str]], keep: int, limit: int | None,
                render) -> list[list[str]]:
    """Blocks of column indexes whose rendered lines fit in ``limit`` columns, each block
    repeating the first ``keep`` columns (the row labels). One block when everything fits
    (or ``limit`` is None). ``render(indexes)`` → the block's lines."""
    every = list(range(len(head)))
    if limit is None or max(len(line) for line in render(every)) <= limit:
        return [every]
    blocks, current = [], every[:keep]
    for i in every[keep:]:
        trial = [*current, i]
        if len(current) > keep and max(len(line) for line in render(trial)) > limit:
            blocks.append(current)
            current = [*every[:keep], i]
        else:
            current = trial
    blocks.append(current)
    return blocks


def _interactive(stream: TextIO) -> bool:
    if os.environ.get("CI") or os.environ.get("PAVED_NO_PROGRESS") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False


@contextmanager
def progress(message: str, stream: TextIO | None = None, delay: float = DELAY) -> Iterator[None]:
    """A spinner with ``message`` and the seconds elapsed on stderr while the block runs longer
    than ``delay``; erased when it ends. Nothing at all unless stderr is a terminal outside CI."""
    stream = stream or sys.stderr
    if not _interactive(stream):
        yield
        return
    done = threading.Event()
    start = time.monotonic()
    shown = [False]

    def spin() -> None:
        if done.wait(delay):
            return
        i = 0
        while not done.is_set():
            stream.write(f"\r{SPINNER[i % len(SPINNER)]} {message} {time.monotonic() - start:.0f}s ")
            stream.flush()
            shown[0] = True
            i += 1
            done.wait(0.1)

    thread = threading.Thread(target=spin, name="paved-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        if shown[0]:
            stream.write("\r\033[K")
            stream.flush()

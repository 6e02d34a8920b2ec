"""Label Studio's full JSON export: a snapshot of a project streamed to a file
(`export_snapshot`), and the file read back one task at a time (`iter_export`).

A full JSON export is one top-level array of tasks, each with its ``annotations``
(``completed_by`` an object ``{id, email}`` or a bare user id, ``was_cancelled``,
``ground_truth``, ``result``) and ``predictions``. `iter_export` streams it task by task
(``json.JSONDecoder.raw_decode`` over a buffered read: memory follows the largest task,
not the file, and no extra dependency is needed).

>>> export_snapshot(studio, project, "export.json")        # doctest: +SKIP
>>> for task in iter_export("export.json"): ...            # doctest: +SKIP
"""

import json
import time
from pathlib import Path

from slant.errors import DataError, InputError, StudioError
from slant.studio.projects import resolve_project

__all__ = ["export_snapshot", "iter_export"]

_CHUNK = 1 << 20


def export_snapshot(studio, project, dest, *, timeout=1800.0, poll=0.5, chunk_size=1 << 20):
    """Create a full JSON export snapshot of `project` and stream it into the file `dest`.

    Label Studio builds the snapshot in the background; it is polled until it completes,
    then downloaded chunk by chunk (never held in memory whole). Returns the bytes written.
    """
    proj = resolve_project(studio, project)
    exports = studio.sdk.projects.exports
    # Snapshots leave predictions out and name annotators by id unless asked: slant needs the
    # predictions shown to annotators and each annotator's email.
    options = {"predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}}
    snap = studio.call(f"create an export snapshot of project {proj.id}", exports.create, id=proj.id,
                       title=f"slant pull {time.strftime('%Y-%m-%d %H:%M:%S')}", serialization_options=options)
    deadline = time.monotonic() + timeout
    while snap.status != "completed":
        if snap.status == "failed":
            raise StudioError(f"Label Studio could not build the export snapshot {snap.id} of project {proj.title!r} "
                              "(status failed); check the server log, then run the command again")
        if time.monotonic() > deadline:
            raise StudioError(f"the export snapshot {snap.id} of project {proj.title!r} was not ready after {timeout:.0f} s "
                              f"(status {snap.status}); the server is busy: run the command again later")
        time.sleep(poll)
        snap = studio.call("read the export snapshot's status", exports.get, id=proj.id, export_pk=snap.id)

    def download():
        written = 0
        with Path(dest).open("wb") as fh:
            for chunk in exports.download(id=proj.id, export_pk=snap.id, export_type="JSON",
                                          request_options={"chunk_size": chunk_size}):
                fh.write(chunk)
                written += len(chunk)
        return written

    return studio.call(f"download the export snapshot {snap.id}", download)


def iter_export(path, *, chunk=_CHUNK):
    """Yield the tasks of a Label Studio JSON export file one at a time.

    The top-level array is parsed incrementally; a malformed file raises `DataError`
    naming the byte offset.
    """
    path = Path(path)
    decoder = json.JSONDecoder()
    try:
        fh = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path of the Label Studio JSON export") from None
    with fh:
        buf, pos, offset, eof = "", 0, 0, False

        def fill():
            nonlocal buf, pos, offset, eof
            more = fh.read(chunk)
            eof = not more
            offset += pos
            buf, pos = buf[pos:] + more, 0

        def skip_ws():
            nonlocal pos
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n":
                    pos += 1
                if pos < len(buf) or eof:
                    return
                fill()

        def bad(what):
            return DataError(f"{path}: not a Label Studio JSON export ({what} at character {offset + pos}); "
                             "export the project again as JSON, or pull straight from Label Studio with --project")

        try:
            fill()
            skip_ws()
            if pos >= len(buf) or buf[pos] != "[":
                raise bad("expected a JSON array of tasks")
            pos += 1
            first = True
            while True:
                skip_ws()
                if pos >= len(buf):
                    raise bad("the array is not closed: the file is truncated")
                if buf[pos] == "]":
                    return
                if not first:
                    if buf[pos] != ",":
                        raise bad(f"expected ',' or ']', found {buf[pos]!r}")
                    pos += 1
                    skip_ws()
                    if pos >= len(buf):
                        raise bad("the array is not closed: the file is truncated")
                first = False
                while True:
                    try:
                        task, end = decoder.raw_decode(buf, pos)
                        # a number could continue in the next chunk; objects end at '}'
                        if end == len(buf) and not eof and not isinstance(task, (dict, list)):
                            raise json.JSONDecodeError("incomplete", buf, end)
                        break
                    except json.JSONDecodeError as exc:
                        if eof:
                            raise bad(f"{exc.msg}; is the file truncated?") from None
                        fill()  # the task continues in the next chunk
                if not isinstance(task, dict):
                    raise bad(f"expected a task object, found {type(task).__name__}")
                pos = end
                yield task
        except UnicodeDecodeError:
            raise DataError(f"{path}: not UTF-8 text; is this a Label Studio JSON export?") from None

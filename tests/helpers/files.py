"""Small file helpers shared by the importer and reviewed-record tests."""

import json


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_lines(path, rows):
    return write(path, "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))

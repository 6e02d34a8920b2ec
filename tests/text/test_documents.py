"""Documents and their readers (slant.text.documents): make_document, .txt/.md/.html/.jsonl, raw items."""

import json
from pathlib import Path

import pytest

from slant._files import sample_article_path
from slant.errors import InputError
from slant.text.documents import Document, RawDocument, make_document, read_documents, read_raw
from slant.text.segment import Sentence


def texts(sentences):
    return [s.text for s in sentences]


def assert_offsets(text, sentences):
    for i, s in enumerate(sentences):
        assert text[s.start:s.end] == s.text, s
        assert s.index == i
        assert s.text == s.text.strip() and s.text
    starts = [s.start for s in sentences]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:]))


@pytest.mark.parametrize(
    "text,kinds",
    [
        ("Council Votes to Withhold Payment\n\nThe council voted.", ["title", "body"]),
        ("Short Headline\nThe body text follows here. And more.", ["title", "body", "body"]),
        ("Headline Here\n\nBy Jane Doe\n\nBody text.", ["title", "byline", "body"]),
        ("Headline Here\nBy Jane Doe and John Roe, Reuters\n\nBody text.", ["title", "byline", "body"]),
        ("By Ana Ruiz\n\nBody text. More.", ["byline", "body", "body"]),
        ("The council voted on Tuesday.\n\nMore.", ["body", "body"]),
        ("the lowercase start is not a title\n\nBody.", ["body", "body"]),
        ("A first line that runs on\nand continues in lower case.", ["body"]),
        ("By the river, a crowd gathered on Tuesday to protest.", ["body"]),
    ],
    ids=["blank-after", "short-no-blank", "byline", "byline-two-names-outlet", "byline-first",
         "sentence-first", "lowercase", "continued", "by-not-byline"],
)
def test_title_and_byline(text, kinds):
    doc = make_document(text)
    assert [s.kind for s in doc.sentences] == kinds
    assert_offsets(doc.text, doc.sentences)
    if kinds[0] == "title":
        assert doc.title == doc.sentences[0].text
    else:
        assert doc.title is None


def test_explicit_title_marks_matching_line_only():
    doc = make_document("Bridge Reopens\n\nBody.", title="Bridge Reopens")
    assert doc.sentences[0].kind == "title"
    doc = make_document("Dateline of the story.\n\nBody.", title="Something else")
    assert doc.sentences[0].kind == "body" and doc.title == "Something else"


def test_make_document_defaults_and_crlf():
    doc = make_document("Title Line\r\n\r\nOne. Two.\r\n", source="x.txt", meta={"outlet": "o"})
    assert isinstance(doc, Document) and isinstance(doc.sentences[0], Sentence)
    assert "\r" not in doc.text
    assert doc.id.startswith("doc-") and doc.id == make_document(doc.text).id
    assert doc.source == "x.txt" and doc.meta == {"outlet": "o"}
    assert texts(doc.sentences) == ["Title Line", "One.", "Two."]
    assert_offsets(doc.text, doc.sentences)


def write(path, content):
    path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["story.txt", "story.md", "story.html", "story.htm", "story.text"])
def test_read_documents_by_extension(tmp_path, name):
    body = "<h1>Big Story</h1><p>One. Two.</p>" if "htm" in name else "# Big Story\n\nOne. Two.\n"
    if name.endswith((".txt", ".text")):
        body = "Big Story\n\nOne. Two.\n"
    doc = next(read_documents(write(tmp_path / name, body)))
    assert doc.id == "story" and doc.source == name and doc.title == "Big Story"
    assert texts(doc.sentences) == ["Big Story", "One.", "Two."]
    assert_offsets(doc.text, doc.sentences)


def test_read_documents_many_paths_streams(tmp_path):
    paths = [write(tmp_path / f"a{i}.txt", f"Doc {i} text. More.") for i in range(3)]
    it = read_documents(str(p) for p in paths)
    assert next(it).id == "a0"
    assert [d.id for d in it] == ["a1", "a2"]


def test_read_jsonl(tmp_path):
    lines = [
        {"id": "d1", "text": "Headline Here\n\nOne. Two.", "title": "Headline Here", "outlet": "Gazette"},
        {"id": 7, "text": "Just one sentence.", "url": "https://example.org/7"},
    ]
    path = write(tmp_path / "docs.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    docs = list(read_documents(path))
    assert [d.id for d in docs] == ["d1", "7"]
    assert docs[0].title == "Headline Here" and docs[0].sentences[0].kind == "title"
    assert docs[0].meta == {"outlet": "Gazette"} and docs[0].source == "docs.jsonl"
    assert docs[1].source == "https://example.org/7" and docs[1].meta == {"url": "https://example.org/7"}
    for d in docs:
        assert_offsets(d.text, d.sentences)


@pytest.mark.parametrize(
    "content,match",
    [
        ('{"id": "a", "text": "ok."}\n{"id": "b", "text": \n', r"docs\.jsonl:2: not valid JSON .*fix or remove the line"),
        ('["id", "text"]\n', r"docs\.jsonl:1: expected a JSON object .* got list"),
        ('{"text": "no id."}\n', r"docs\.jsonl:1: missing 'id'; each line needs"),
        ('{"id": "x"}\n', r"docs\.jsonl:1: missing 'text'"),
        ('{"title": "t"}\n', r"missing 'id' and 'text'"),
        ('{"id": "x", "text": "  "}\n', r"docs\.jsonl:1: \"text\" of document 'x' is empty"),
        ("\n\n", r"docs\.jsonl: the file is empty"),
    ],
    ids=["bad-json", "not-object", "no-id", "no-text", "neither", "empty-text", "empty-file"],
)
def test_jsonl_errors(tmp_path, content, match):
    path = write(tmp_path / "docs.jsonl", content)
    with pytest.raises(InputError, match=match):
        list(read_documents(path))


def test_jsonl_not_utf8(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b'{"id": "a", "text": "caf\xe9."}\n')
    with pytest.raises(InputError, match=r"docs\.jsonl:1: not UTF-8 .*iconv"):
        list(read_documents(path))


def test_file_errors(tmp_path):
    with pytest.raises(InputError, match=r"missing\.txt: no such file; check the path"):
        list(read_documents(tmp_path / "missing.txt"))
    with pytest.raises(InputError, match=r"missing\.jsonl: no such file"):
        list(read_documents(tmp_path / "missing.jsonl"))
    with pytest.raises(InputError, match=r"test_file_errors0: no readable documents inside \(\.txt, .*; check the directory"):
        list(read_documents(tmp_path))
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(InputError, match=r"dir\.jsonl: no readable documents inside"):
        list(read_documents(tmp_path / "dir.jsonl"))
    with pytest.raises(InputError, match=r"empty\.txt: the file is empty"):
        list(read_documents(write(tmp_path / "empty.txt", "")))
    with pytest.raises(InputError, match=r"blank\.txt: the file is empty"):
        list(read_documents(write(tmp_path / "blank.txt", " \n\t\n")))
    (tmp_path / "latin.txt").write_bytes(b"Caf\xe9 society.")
    with pytest.raises(InputError, match=r"latin\.txt: not UTF-8 \(byte 3: 0xe9\); convert it first, e\.g\. iconv -f latin1"):
        list(read_documents(tmp_path / "latin.txt"))
    (tmp_path / "blob.bin").write_bytes(b"PK\x03\x04\x00\x00")
    with pytest.raises(InputError, match=r"blob\.bin: looks binary \(NUL byte at offset 4\)"):
        list(read_documents(tmp_path / "blob.bin"))
    with pytest.raises(InputError, match=r"only\.html: no text left after extracting the html markup"):
        list(read_documents(write(tmp_path / "only.html", "<script>x()</script>")))


def test_utf8_bom_is_dropped(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeffHello there. Bye.".encode("utf-8"))
    doc = next(read_documents(tmp_path / "bom.txt"))
    assert texts(doc.sentences) == ["Hello there.", "Bye."]


def _sample():
    path = Path(str(sample_article_path()))
    if not path.exists():
        pytest.skip("labels/sample/harbor-bridge.txt not written yet")
    return next(read_documents(path))


def test_sample_article():
    doc = _sample()
    assert_offsets(doc.text, doc.sentences)
    assert doc.id == "harbor-bridge"
    assert doc.title and doc.sentences[0].kind == "title" and doc.sentences[0].text == doc.title
    for s in doc.sentences:
        # No sentence ends inside an abbreviation, and none starts in lower case.
        assert not s.text.endswith(("U.S.", "Mr.", "Ms.", "Dr.", "Sen.", "Gen.", "Jan.", "Feb.", "Sept.", "a.m.", "p.m.")), s.text
        assert not s.text[0].islower(), s.text
    assert any("U.S. Sen." in s.text for s in doc.sentences) or "U.S." not in doc.text


# --- raw documents: what analyze's worker processes split -------------------------------

def test_read_raw_items_make_the_same_documents(tmp_path):
    import pickle

    jsonl = write(tmp_path / "docs.jsonl", '{"id": "a", "text": "One. Two.\\n\\nThree."}\n\n{"id": 2, "text": "Four."}\n')
    txt = write(tmp_path / "story.txt", "Headline\n\nMr. Lee left. He said so.")
    html = write(tmp_path / "page.html", "<h1>Title</h1><p>First one. Second one.</p>")
    items = list(read_raw([jsonl, txt, html]))
    assert [(Path(i.path).name, i.lineno) for i in items] == [("docs.jsonl", 1), ("docs.jsonl", 3), ("story.txt", 0), ("page.html", 0)]
    assert all(isinstance(i, RawDocument) for i in items)
    copies = pickle.loads(pickle.dumps(items))  # sent to worker processes
    assert [c.document() for c in copies] == list(read_documents([jsonl, txt, html]))
    assert [c.document().meta for c in copies] == [d.meta for d in read_documents([jsonl, txt, html])]
    for item in items:  # an estimate from ". " and line breaks, for batching before splitting
        n = len(item.document().sentences)
        assert n <= item.size() <= 2 * n + 1


def test_raw_items_defer_line_errors_to_document(tmp_path):
    path = write(tmp_path / "docs.jsonl", '{"id": "a", "text": "Fine."}\n{"id": "b"}\n')
    items = list(read_raw(path))  # reading only splits lines
    assert items[0].document().id == "a"
    with pytest.raises(InputError, match=r"docs\.jsonl:2: missing 'text'"):
        items[1].document()

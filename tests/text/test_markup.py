"""HTML and Markdown extraction (slant.text.markup)."""

from slant.text.documents import make_document
from slant.text.markup import extract_html, extract_markdown


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


HTML = """<!doctype html><html><head><title>Site | Story</title>
<style>p { color: red }</style><script>var s = "Not. Text.";</script></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<h1>Harbor &amp; Bridge Reopens</h1><p>By Jane Doe</p>
<p>The bridge <b>reopened</b> on Monday.<br>Cars returned. Mr. Lee said “It is safe.”</p>
<ul><li>First item</li><li>Second item</li></ul><footer>Contact us.</footer></body></html>"""


def test_html_extraction():
    text, title = extract_html(HTML)
    assert title == "Harbor & Bridge Reopens"
    assert "Not. Text." not in text and "Home" not in text and "color" not in text and "Site" not in text
    doc = make_document(text, title=title)
    assert [(s.kind, s.text) for s in doc.sentences] == [
        ("title", "Harbor & Bridge Reopens"),
        ("byline", "By Jane Doe"),
        ("body", "The bridge reopened on Monday."),
        ("body", "Cars returned."),
        ("body", "Mr. Lee said “It is safe.”"),
        ("body", "First item"),
        ("body", "Second item"),
        ("body", "Contact us."),
    ]
    assert_offsets(doc.text, doc.sentences)


def test_html_title_from_title_tag_when_no_h1():
    text, title = extract_html("<html><head><title>Only Title</title></head><body><p>Body text.</p></body></html>")
    assert (text, title) == ("Body text.", "Only Title")


MARKDOWN = """# Harbor Bridge *Reopens*

By Jane Doe

The bridge **reopened** on [Monday](https://example.org/a). It was `fine`.
A snake_case word and 2 * 3 stay. ![photo](img.png)

- item one
- item _two_

```
code. Not prose.
```

> Quoted para. Two.

---
[ref]: https://example.org
"""


def test_markdown_extraction():
    text, title = extract_markdown(MARKDOWN)
    assert title == "Harbor Bridge Reopens"
    for junk in ("**", "](", "`", "#", "code.", "img.png", "https://", "---", "> "):
        assert junk not in text
    doc = make_document(text, title=title)
    assert texts(doc.sentences) == [
        "Harbor Bridge Reopens", "By Jane Doe", "The bridge reopened on Monday.", "It was fine.",
        "A snake_case word and 2 * 3 stay.", "item one", "item two", "Quoted para.", "Two.",
    ]
    assert [s.kind for s in doc.sentences[:2]] == ["title", "byline"]
    assert_offsets(doc.text, doc.sentences)


def test_html_entities_breaks_and_dropped_tags():
    text, title = extract_html("<p>A &amp; B<br/>C</p><svg><text>drawn</text></svg><div>D</div>")
    assert (text, title) == ("A & B\nC\n\nD", None)


def test_markdown_fences_setext_and_first_heading_as_title():
    text, title = extract_markdown("## Second level\n\nBody *em* and __strong__.\n\n~~~\nfenced. Text.\n~~~\nAfter\n=====\n")
    assert title == "Second level"
    assert text == "Second level\n\nBody em and strong.\n\nAfter"

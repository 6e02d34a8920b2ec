"""Documents and sentences: readers (txt, md, html, jsonl) and sentence splitting with exact offsets."""

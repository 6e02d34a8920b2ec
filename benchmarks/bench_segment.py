"""Benchmark: sentence splitting, slant vs stock nltk Punkt, on 200,000 sentences.

    .venv/bin/python benchmarks/bench_segment.py                  # 200,000 synthetic sentences
    .venv/bin/python benchmarks/bench_segment.py --sentences 20000
    .venv/bin/python benchmarks/bench_segment.py --dir SOME/FOLDER/OF/TXT   # also time real files

The synthetic corpus is built from templates written here (abbreviations, initials,
curly and straight quotes, decimals, a.m./p.m., headlines), so the true sentences are
known: the script reports the share of true sentences each splitter reproduces exactly.
Baselines in the same run: nltk's untrained PunktSentenceTokenizer(), and the same
Punkt parameters as slant's on nltk's own (timed `regex`) engine. The splitters are timed
interleaved (`--rounds` slices of the corpus, each split by every splitter in a rotating
order) and the ratio is the median of the per-slice ratios.
Exits 1 if slant is slower than stock Punkt or below 99% exact sentences.
"""

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from slant.text.segment import _tokenizer, split_sentences

TEMPLATES = [
    "Mr. {name} told reporters on {month}. {day} that the {org} would act.",
    "“We will not back down,” {name} said at {hour} p.m. on {weekday}.",
    "The {org} spent ${amount} billion, up {pct} percent from last year.",
    "Sen. {name} of the U.S. Senate said the plan was “dead on arrival.”",
    "Officials at the {org} declined to comment, e.g. on the {month}. {day} memo.",
    "Gov. {first} {initial}. {name} signed the bill at {hour} a.m. in the capital.",
    '"It is a disgrace," said Dr. {name}, who chairs the {org} panel.',
    "Critics — including Rep. {name} — called it a giveaway to Acme Inc. and its allies.",
    "Is the {org} really serious about reform?",
    "Shares of Bolt Corp. fell {pct} percent vs. a {pct2} percent gain for the index.",
]
NAMES = ["Lee", "Ruiz", "Okafor", "Brandt", "Marsh", "Quinn", "Haddad", "Novak"]
ORGS = ["commission", "council", "ministry", "authority", "agency"]


def make_corpus(n_sentences, seed):
    """Documents as (text, [true sentences]) with a headline and 3-6 sentence paragraphs."""
    rng = random.Random(seed)
    docs, made = [], 0
    while made < n_sentences:
        truth, paragraphs = [], []
        headline = f"{rng.choice(ORGS).title()} Faces Questions Over {rng.choice(NAMES)} Deal"
        truth.append(headline)
        paragraphs.append(headline)
        for _ in range(rng.randint(4, 8)):
            para = []
            for _ in range(rng.randint(3, 6)):
                s = rng.choice(TEMPLATES).format(
                    name=rng.choice(NAMES), first=rng.choice(["John", "Mary", "Ada"]), initial=rng.choice("ABCDEFG"),
                    month=rng.choice(["Jan", "Feb", "Aug", "Sept", "Oct"]), day=rng.randint(1, 28),
                    org=rng.choice(ORGS), hour=rng.randint(1, 12), weekday=rng.choice(["Monday", "Friday"]),
                    amount=f"{rng.randint(1, 99)}.{rng.randint(1, 9)}", pct=rng.randint(2, 30), pct2=rng.randint(2, 9))
                para.append(s)
            truth.extend(para)
            paragraphs.append(" ".join(para))
        docs.append(("\n\n".join(paragraphs), truth))
        made += len(truth)
    return docs


def stock_engine_tokenizer():
    """slant's Punkt parameters on nltk's own tokenizer classes (timed regex engine)."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    return PunktSentenceTokenizer(_tokenizer()._params)


def peak_mib(split, docs):
    """Peak traced memory over a few documents (tracing slows Python code, so not timed)."""
    tracemalloc.start()
    for text, _ in docs[:50]:
        split(text)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def score(split, docs):
    """``(seconds, sentences found, exactly reproduced true sentences, true sentences)``."""
    t0 = time.perf_counter()
    exact = total = found = 0
    for text, truth in docs:
        got = split(text)
        found += len(got)
        gold = set(truth)
        exact += sum(1 for s in got if s in gold)
        total += len(truth)
    return time.perf_counter() - t0, found, exact, total


def interleaved(splitters, docs, rounds):
    """Time every splitter on the same documents, interleaved: the corpus is cut into
    `rounds` slices and each slice is split by every splitter in turn, the order rotating
    from slice to slice, so a change of machine load hits all splitters alike (timing one
    splitter after the other once gave 6.95x where the interleaved ratio is ~3x).
    Returns per splitter the summed seconds, the per-round seconds and the exact share."""
    slices = [docs[i::rounds] for i in range(rounds)]
    out = {name: {"name": name, "rounds": [], "found": 0, "exact": 0, "total": 0} for name, _ in splitters}
    for r, part in enumerate(slices):
        k = r % len(splitters)
        for name, split in splitters[k:] + splitters[:k]:
            seconds, found, exact, total = score(split, part)
            row = out[name]
            row["rounds"].append(seconds)
            row["found"] += found
            row["exact"] += exact
            row["total"] += total
    results = []
    for name, split in splitters:
        row = out[name]
        row["seconds"] = sum(row["rounds"])
        row["per_s"] = (row["total"] or row["found"]) / row["seconds"]
        row["exact"] = row["exact"] / row["total"] if row["total"] else float("nan")  # real text: truth unknown
        row["peak_mib"] = peak_mib(split, docs)
        results.append(row)
    return results


def round_ratio(results, a, b):
    """Median over rounds of results[a] seconds / results[b] seconds (the same slice each)."""
    return statistics.median(x / y for x, y in zip(results[a]["rounds"], results[b]["rounds"]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", help="also time split_sentences on the .txt files of this folder")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds (slices of the corpus)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    _tokenizer()
    print(f"first use (imports nltk, builds the tokenizer): {time.perf_counter() - t0:.2f} s")
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    docs = make_corpus(args.sentences, args.seed)
    stock, same_params = PunktSentenceTokenizer(), stock_engine_tokenizer()
    splitters = [
        ("slant split_sentences", lambda t: [s.text for s in split_sentences(t)]),
        ("nltk Punkt, untrained", lambda t: [t[a:b] for a, b in stock.span_tokenize(t)]),
        ("nltk Punkt, slant params, nltk engine", lambda t: [t[a:b] for a, b in same_params.span_tokenize(t)]),
    ]
    results = interleaved(splitters, docs, args.rounds)
    n = sum(len(t) for _, t in docs)
    print(f"{len(docs)} documents, {n} true sentences; {args.rounds} interleaved rounds")
    print(f"{'splitter':40} {'seconds':>8} {'sent/s':>9} {'exact':>7} {'peak MiB (50 docs)':>19}")
    for r in results:
        print(f"{r['name']:40} {r['seconds']:8.2f} {r['per_s']:9.0f} {r['exact']:7.1%} {r['peak_mib']:19.2f}")
    ratio = round_ratio(results, 1, 0)
    print(f"ratio stock Punkt / slant time: {ratio:.2f}x (median of per-round ratios; "
          f"totals give {results[1]['seconds'] / results[0]['seconds']:.2f}x)")
    if args.dir:
        files = sorted(Path(args.dir).glob("*.txt"))
        texts = [(f.read_text(encoding="utf-8"), []) for f in files]
        real = interleaved([splitters[0], splitters[1]], texts, args.rounds)
        print(f"{args.dir}: {len(files)} files, slant {real[0]['found']} sentences in {real[0]['seconds']:.2f} s "
              f"({real[0]['found'] / real[0]['seconds']:.0f}/s); stock Punkt {real[1]['found']} in "
              f"{real[1]['seconds']:.2f} s; ratio {round_ratio(real, 1, 0):.2f}x (median of {args.rounds} interleaved rounds)")
    ok = ratio >= 1 and results[0]["exact"] >= 0.99
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Named or vague: does an attribution's source say who is speaking? (`source_is_named`)

The word lists below are the decision's vocabulary: pronouns and definite descriptions
refer to someone identified, generic or plural heads and quantifiers do not.
"""

import re

__all__ = ["GENERIC", "PRONOUNS", "RELATIVES", "antecedent_phrase", "source_is_named"]


PRONOUNS = frozenset("""
    he she they i we you him her them me us his hers their theirs its it our my your
    himself herself themselves itself ourselves
""".split())
RELATIVES = frozenset("who whom whose which that".split())
# Heads that leave the source unidentified, whatever modifies them.
GENERIC = frozenset("""
    official source critic expert analyst observer people person persons someone somebody anyone
    anybody everyone everybody some many others other most few several all both one none majority
    minority aide adviser advisor insider supporter opponent resident voter member witness
    percent poll survey democrats republicans conservatives liberals progressives americans
    evangelicals independents moderates europeans
""".split())
_FUNCTION = frozenset("""
    the a an this that these those some many several one two three his her their its our
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december
""".split())  # capitalised but no names
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_POSTMOD = frozenset("""
    of at in from for with on who whom whose that which familiar close involved according to inside
    within under among between across about
""".split())
_DEFINITE = frozenset("the this that these those his her its their our my your".split())
_WORD = re.compile(r"[\w][\w.'’&-]*|[,(—–;:]")


def _generic(low):
    return low in GENERIC or (low.endswith("s") and (low[:-1] in GENERIC or low[:-2] in GENERIC))


def _is_proper(token, sentence_initial, lower_words):
    core = _POSSESSIVE.sub("", token).rstrip(".")
    if not core or not core[0].isupper() or core.lower() in _FUNCTION or _generic(core.lower()):
        return False
    if len(core) > 1 and core.isupper():
        return True  # FBI, CNN
    # A capital at the start of a sentence proves nothing if the word also occurs in
    # lower case in the article ("Witnesses said ...").
    return not (sentence_initial and core.lower() in lower_words)


def _plural_common(head, lower_words):
    low = _POSSESSIVE.sub("", head).lower()
    if _generic(low):
        return True
    plural = low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(low) > 3
    return plural and (head[0].islower() or low in lower_words)


def source_is_named(source, *, sentence_initial=False, lower_words=frozenset(), antecedent=None):
    """Heuristic: does an attribution `source` (text) name who is speaking?

    Named: a proper noun or acronym in the source ("Sen. Ruiz", "the Labor Department",
    "a Pfizer spokesperson"), a pronoun ("he", "they": in the article it refers back to
    someone introduced earlier, usually by name, so it counts as named), or a definite
    singular description ("the senator", "the campaign"). Vague: no source, a generic or
    plural head ("officials", "White House officials", "people familiar with ..."), a
    quantifier ("some", "many"), or an indefinite ("a source", "one official").
    Relative pronouns ("who", "which") are judged by their `antecedent` when given.
    """
    if not source or not source.strip():
        return False
    parts = re.split(r",?\s+(?:and|&|or)\s+", source.strip())
    return any(_part_named(p, sentence_initial and i == 0, lower_words, antecedent) for i, p in enumerate(parts))


def _part_named(part, sentence_initial, lower_words, antecedent):
    tokens = _WORD.findall(part)
    words = [t for t in tokens if t[0].isalnum()]
    if not words:
        return False
    pre = []
    for t in tokens:
        if t.lower() in _POSTMOD or not t[0].isalnum():
            if pre:
                break
            continue
        pre.append(t)
    head = _POSSESSIVE.sub("", (pre or words)[-1])
    if sentence_initial and len(words) > 1 and words[1][0].islower() and _plural_common(words[0], lower_words):
        return False  # "Figures reported on Sunday": a common plural, capitalised by position
    low = head.lower()
    if low in RELATIVES and len(words) == 1:
        if not antecedent:
            return True
        # "news from the Bank of Japan, which": the nearest noun phrase decides too.
        tail = re.split(r"\b(?:of|from|at|with|by|for|as|than)\s+", antecedent)[-1]
        return source_is_named(antecedent, lower_words=lower_words) or source_is_named(tail, lower_words=lower_words)
    if low in PRONOUNS:
        return True
    if _plural_common(head, lower_words):
        return False
    if any(_is_proper(t, sentence_initial and i == 0, lower_words) for i, t in enumerate(words)):
        return True
    det = words[0].lower()
    return det in _DEFINITE or det.endswith(("'s", "’s"))


def antecedent_phrase(text, start):
    """The phrase before a relative pronoun: 'Mayor Ana Ruiz, who said' -> 'Mayor Ana Ruiz'."""
    before = text[max(0, start - 120):start].rstrip().rstrip(",").rstrip()
    cut = max(before.rfind(ch) for ch in ".;:(—\n\"“")
    phrase = before[cut + 1:]
    phrase = phrase.split(",")[-1]
    return " ".join(phrase.split()[-8:])

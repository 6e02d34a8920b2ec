"""Word and character n-gram TF-IDF built word by word, and a fast scorer for it.

`NgramFeatures` gives each sentence word 1–2-gram and character 2–5-gram (``char_wb``
style, per word) TF-IDF blocks. Each block is divided by ``sqrt(Σ idf²)`` over the
n-gram occurrences of the sentence: the L2 norm of the block when no n-gram repeats,
which (unlike the exact L2 norm) is a sum over words. That makes a sentence's linear
score a sum of per-word terms, so `Scorer` caches one small vector per distinct word
and scores a batch with a few numpy operations — several times faster than
``TfidfVectorizer`` itself, with the same quality under grouped cross-validation
(docs/performance.md). The same per-word terms are the token contributions that
`slant.model.explain` turns into spans.
"""

from collections import namedtuple
from functools import partial
from itertools import chain, repeat
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from slant.text.tokens import tokens, word_tokens

__all__ = ["NgramFeatures", "Scorer", "Batch", "char_ngrams"]

_ROW_LIMIT = 200_000  # distinct words a scorer caches (more only for one batch's words) before starting over


def char_ngrams(word, min_n, max_n):
    """Character n-grams of `word` padded with spaces, as scikit-learn's ``char_wb``."""
    w = " " + word + " "
    size = len(w)
    out = []
    for n in range(min_n, max_n + 1):
        if size <= n:  # a short word is counted once, whole
            out.append(w)
            break
        out += [w[i:i + n] for i in range(size - n + 1)]
    return out


def _sentence_char_ngrams(doc, min_n=2, max_n=5):
    out = []
    for w in word_tokens(doc):
        out.extend(char_ngrams(w, min_n, max_n))
    return out


def _word_grams(ws, lo, hi):
    grams = ws[:] if lo == 1 else []
    for n in range(max(lo, 2), hi + 1):
        grams.extend(map(" ".join, zip(*(ws[k:] for k in range(n)))))
    return grams


def _block(cols, indptr, idf, weight):
    """CSR block: idf per occurrence over sqrt(Σ idf²) of its row, duplicates summed."""
    n = len(indptr) - 1
    vals = idf[cols]
    rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(indptr))
    norm = np.sqrt(np.bincount(rows, weights=vals ** 2, minlength=n))
    norm[norm == 0] = 1.0
    vals /= norm[rows]
    del rows
    if weight != 1.0:
        vals *= weight
    M = sp.csr_matrix((vals, cols, indptr), shape=(n, len(idf)))
    M.sum_duplicates()
    return M


class NgramFeatures(TransformerMixin, BaseEstimator):
    """Word and character n-gram TF-IDF, normalised per block by ``sqrt(Σ idf²)``.

    Vocabularies and idf come from scikit-learn's `TfidfVectorizer` (smooth idf,
    `min_df`); term frequencies are raw counts. Output columns: word n-grams, then
    character n-grams (scaled by `char_weight`).
    """

    def __init__(self, *, word_ngram_range=(1, 2), char_ngram_range=(2, 5), min_df=2, max_char_features=300_000,
                 char_weight=1.0):
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_char_features = max_char_features
        self.char_weight = char_weight

    def fit(self, X, y=None):
        texts = list(X)
        lo, hi = self.char_ngram_range
        word = TfidfVectorizer(tokenizer=word_tokens, token_pattern=None, lowercase=True,
                               ngram_range=tuple(self.word_ngram_range), min_df=self.min_df)
        char = TfidfVectorizer(analyzer=partial(_sentence_char_ngrams, min_n=lo, max_n=hi), lowercase=False,
                               min_df=self.min_df, max_features=self.max_char_features)
        word.fit(texts)
        char.fit([t.lower() for t in texts])
        self.vocabulary_ = dict(word.vocabulary_)
        self.idf_ = word.idf_
        self.char_vocabulary_ = dict(char.vocabulary_)
        self.char_idf_ = char.idf_
        return self

    def fit_transform(self, X, y=None):
        """``fit(X).transform(X)`` in one pass, each distinct word analysed once.

        Training spends most of its feature time here: the vocabularies, idf and matrix
        equal the two-step reference (same scikit-learn rules: min_df, max_features with
        its tie order, smooth idf; tested), built block by block with numpy instead of
        per-sentence Python lists: several times faster, and a fraction of the memory.
        """
        texts = list(X)
        n = len(texts)
        lo, hi = self.char_ngram_range
        wlo, whi = self.word_ngram_range
        docs = [word_tokens(t.lower()) for t in texts]
        low = self.min_df if isinstance(self.min_df, Integral) else self.min_df * n
        if n < low:  # scikit-learn's check, with max_df=1.0
            raise ValueError("max_df corresponds to < documents than min_df")
        W = self._fit_word_block(docs, n, low, wlo, whi)
        C = self._fit_char_block(docs, n, low, lo, hi)
        return sp.hstack([W, C], format="csr")

    def _fit_word_block(self, docs, n, low, wlo, whi):
        wdf, doc_grams = {}, []
        for ws in docs:
            grams = _word_grams(ws, wlo, whi)
            doc_grams.append(grams)
            for g in set(grams):
                wdf[g] = wdf.get(g, 0) + 1
        terms = sorted(g for g, d in wdf.items() if d >= low)
        if not terms:
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        vocab = self.vocabulary_ = {g: j for j, g in enumerate(terms)}
        self.idf_ = np.log((1 + n) / (1 + np.array([wdf[g] for g in terms], dtype=np.float64))) + 1
        del wdf
        get = vocab.get
        cols, indptr = [], [0]
        for grams in doc_grams:
            cols.extend(j for j in map(get, grams) if j is not None)
            indptr.append(len(cols))
        del doc_grams
        return _block(np.array(cols, dtype=np.int32), np.array(indptr, dtype=np.int64), self.idf_, 1.0)

    def _fit_char_block(self, docs, n, low, lo, hi):
        cache, tmp = {}, {}  # word -> temporary n-gram ids; n-gram -> temporary id
        pieces, indptr = [], [0]
        total = 0
        for ws in docs:
            for w in ws:
                ids = cache.get(w)
                if ids is None:
                    ids = cache[w] = np.array([tmp.setdefault(g, len(tmp)) for g in char_ngrams(w, lo, hi)], dtype=np.int32)
                pieces.append(ids)
                total += len(ids)
            indptr.append(total)
        del cache
        idx = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
        del pieces
        indptr = np.array(indptr, dtype=np.int64)
        terms = sorted(tmp)
        rank = np.empty(len(terms), dtype=np.int32)  # temporary id -> alphabetical position
        rank[np.fromiter((tmp[g] for g in terms), dtype=np.int64, count=len(terms))] = np.arange(len(terms), dtype=np.int32)
        del tmp
        idx = rank[idx]
        # copies: sum_duplicates compacts the arrays it was given in place
        counts = sp.csr_matrix((np.ones(len(idx), dtype=np.int32), idx.copy(), indptr.copy()), shape=(n, len(terms)))
        counts.sum_duplicates()
        dfs = np.bincount(counts.indices, minlength=len(terms))
        mask = (dfs >= low) & (dfs <= n)
        if self.max_char_features is not None and mask.sum() > self.max_char_features:
            # scikit-learn keeps the max_features most frequent terms, argsort over the sorted vocabulary
            tfs = np.bincount(counts.indices, weights=counts.data, minlength=len(terms))
            keep = (-tfs[mask]).argsort()[:self.max_char_features]
            new_mask = np.zeros(len(dfs), dtype=bool)
            new_mask[np.where(mask)[0][keep]] = True
            mask = new_mask
        del counts
        kept = np.where(mask)[0]
        if not len(kept):
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        self.char_vocabulary_ = {terms[k]: j for j, k in enumerate(kept.tolist())}
        self.char_idf_ = np.log((1 + n) / (1 + dfs[kept].astype(np.float64))) + 1
        new = np.full(len(terms), -1, dtype=np.int32)
        new[kept] = np.arange(len(kept), dtype=np.int32)
        idx = new[idx]
        inside = idx >= 0
        before = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(inside, out=before[1:])
        return _block(idx[inside], before[indptr], self.char_idf_, self.char_weight)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "idf_")
        words = sorted(self.vocabulary_, key=self.vocabulary_.get)
        chars = sorted(self.char_vocabulary_, key=self.char_vocabulary_.get)
        return np.array([f"w:{t}" for t in words] + [f"c:{t}" for t in chars], dtype=object)

    def transform(self, X):
        """The reference implementation (sparse matrix); `Scorer` gives the same scores faster."""
        check_is_fitted(self, "idf_")
        X = list(X)
        lo, hi = self.char_ngram_range
        wlo, whi = self.word_ngram_range
        vw, vc = self.vocabulary_, self.char_vocabulary_
        nw = len(self.idf_)
        rows, cols, vals = [], [], []
        for i, text in enumerate(X):
            ws = [w for w in tokens(text.lower())[1] if w]
            wid = np.array([vw[g] for g in _word_grams(ws, wlo, whi) if g in vw], dtype=np.int64)
            cid = np.array([vc[g] for w in ws for g in char_ngrams(w, lo, hi) if g in vc], dtype=np.int64)
            wv = self.idf_[wid]
            cv = self.char_idf_[cid]
            wn = np.sqrt((wv ** 2).sum()) or 1.0
            cn = np.sqrt((cv ** 2).sum()) or 1.0
            rows.extend([i] * (len(wid) + len(cid)))
            cols.extend(wid.tolist())
            cols.extend((cid + nw).tolist())
            vals.extend((wv / wn).tolist())
            vals.extend((cv / cn * self.char_weight).tolist())
        return sp.csr_matrix((vals, (rows, cols)), shape=(len(X), nw + len(self.char_idf_)))

    # Vocabularies travel as arrays of terms: skops writes a dict entry by entry, which
    # makes a 300k-term vocabulary slow to save and load.
    def __getstate__(self):
        state = dict(super().__getstate__())
        for key in ("vocabulary_", "char_vocabulary_"):
            if key in state:
                vocab = state.pop(key)
                terms = np.empty(len(vocab), dtype=object)
                for term, j in vocab.items():
                    terms[j] = term
                state[f"_{key}terms"] = terms.astype(str)
        return state

    def __setstate__(self, state):
        for key in ("vocabulary_", "char_vocabulary_"):
            terms = state.pop(f"_{key}terms", None)
            if terms is not None:
                state[key] = {str(t): j for j, t in enumerate(terms.tolist())}
        super().__setstate__(state)


# A scored batch: per-class scores plus what explanations reuse.
Batch = namedtuple("Batch", "scores Xq toks words tok_rows tok_offset wnorm cnorm scans pair_ids")


class Scorer:
    """Fast linear scores for ``FeatureUnion([ngrams, cues]) → coef`` (one model).

    Caches, per distinct word, its unigram and character n-gram contributions to every
    class score and their squared idf mass; a batch is scored with sparse products of
    a sentence × word matrix with that table. Bigrams are found without building
    strings: their vocabulary is indexed by the pair of unigram ids.
    """

    def __init__(self, union, coef, intercept):
        parts = dict(union.transformer_list)
        weights = union.transformer_weights or {}
        self.ngrams, self.cues = parts["ngrams"], parts["cues"]
        self.w_ngrams = float(weights.get("ngrams", 1.0))
        self.w_cues = float(weights.get("cues", 1.0))
        ng = self.ngrams
        if tuple(ng.word_ngram_range) not in ((1, 1), (1, 2)):
            raise ValueError(f"word_ngram_range={ng.word_ngram_range}: the fast scorer handles (1, 1) and (1, 2)")
        self.vocab = ng.vocabulary_
        self.cvocab = ng.char_vocabulary_
        self.cn = tuple(ng.char_ngram_range)
        self.bigrams = ng.word_ngram_range[1] == 2
        nw, nc = len(ng.idf_), len(ng.char_idf_)
        self.nw = nw
        K = coef.shape[0]
        self.K = K
        # Word block: coef × idf, transposed, plus idf² (for the norm); row nw is zeros.
        self.word_rows = np.vstack([
            np.column_stack([(coef[:, :nw] * ng.idf_).T * self.w_ngrams, ng.idf_ ** 2]),
            np.zeros((1, K + 1)),
        ])
        self.char_coef = (coef[:, nw:nw + nc] * ng.char_idf_).T * (ng.char_weight * self.w_ngrams)
        self.char_sq = ng.char_idf_ ** 2
        self.cue_coef = coef[:, nw + nc:]
        self.intercept = intercept
        self.matcher = self.cues.matcher_
        # Bigram "a b" keyed by unigram ids: id(a) * nw + id(b). A bigram seen in
        # min_df documents implies both of its words were, so both have ids.
        keys, ids = [], []
        for term, j in self.vocab.items():
            if " " in term:
                a, b = term.split(" ", 1)
                if a in self.vocab and b in self.vocab:
                    keys.append(self.vocab[a] * nw + self.vocab[b])
                    ids.append(j)
        order = np.argsort(keys)
        self._bkeys = np.asarray(keys, dtype=np.int64)[order]
        self._bids = np.asarray(ids, dtype=np.int64)[order]
        self._rows = {}
        # Per distinct word: unigram (K), char n-grams (K), unigram idf², char idf².
        self._table = np.zeros((1024, 2 * K + 2))
        self._uid = np.full(1024, -1, dtype=np.int64)

    def _add_rows(self, words, got):
        """Row numbers for `words` (`got` holds the cached ones, None for the rest).

        New words are added together: their character n-grams go into one sparse
        matrix whose products with the coefficient table give all their rows at once.
        """
        rows = self._rows
        new = list(dict.fromkeys(w for w, r in zip(words, got) if r is None))
        if len(rows) + len(new) > _ROW_LIMIT:
            rows.clear()  # start over rather than grow without limit
            got = [None] * len(words)
            new = list(dict.fromkeys(words))
        K = self.K
        lo, hi = self.cn
        start, end = len(rows), len(rows) + len(new)
        while end > len(self._table):
            self._table = np.vstack([self._table, np.zeros_like(self._table)])
            self._uid = np.r_[self._uid, np.full(len(self._uid), -1, dtype=np.int64)]
        # All the new words' n-grams looked up in one pass (dict.get mapped in C); the
        # unknown ones (-1) dropped afterwards.
        grams, per_word = [], []
        for w in new:
            g = char_ngrams(w, lo, hi)
            grams += g
            per_word.append(len(g))
        ids = np.fromiter(map(self.cvocab.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
        known = ids >= 0
        indptr = np.zeros(len(new) + 1, dtype=np.int64)
        np.cumsum(np.bincount(np.repeat(np.arange(len(new)), per_word)[known], minlength=len(new)), out=indptr[1:])
        cols = ids[known]
        M = sp.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(len(new), len(self.char_sq)))
        M.sum_duplicates()  # a word may repeat an n-gram ("banana"): counted, as in the reference
        u = np.fromiter(map(self.vocab.get, new, repeat(-1)), dtype=np.int64, count=len(new))
        block = self._table[start:end]
        block[:, :K] = self.word_rows[u, :K]  # u == -1: the zero row
        block[:, 2 * K] = self.word_rows[u, K]
        block[:, K:2 * K] = M @ self.char_coef
        block[:, 2 * K + 1] = M @ self.char_sq
        self._uid[start:end] = u
        rows.update(zip(new, range(start, end)))
        return [rows[w] if r is None else r for w, r in zip(words, got)]

    def score(self, texts):
        """A `Batch` whose ``scores`` equal ``union.transform(texts) @ coef.T + intercept``."""
        K = self.K
        n = len(texts)
        toks = [tokens(t) for t in texts]
        # scikit-learn lower-cases with str.lower, which lengthens a few characters ("İ");
        # cue offsets need the length-preserving form, n-grams the str.lower one.
        # (`tokens` lower-cases ASCII text exactly as str.lower does.)
        words = [list(filter(None, tok[1] if t.isascii() or tok[0] == t.lower() else tokens(t.lower())[1]))
                 for t, tok in zip(texts, toks)]
        flat = list(chain.from_iterable(words))
        tok_rows = list(map(self._rows.get, flat))
        if None in tok_rows:
            tok_rows = self._add_rows(flat, tok_rows)
        T = len(tok_rows)
        tok_rows = np.array(tok_rows, dtype=np.int64)
        offset = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=n), out=offset[1:])
        S = sp.csr_matrix((np.ones(T), tok_rows, offset), shape=(n, len(self._table)))
        sums = S @ self._table
        word_num, word_sq = sums[:, :K], sums[:, 2 * K]
        pair_ids = None
        if self.bigrams and T > 1:
            pair_ids = self._pair_ids(tok_rows, offset)
            P = sp.csr_matrix((np.ones(T - 1), pair_ids, np.minimum(offset, T - 1)), shape=(n, self.nw + 1))
            psum = P @ self.word_rows
            word_num = word_num + psum[:, :K]
            word_sq = word_sq + psum[:, K]
        wnorm = np.sqrt(word_sq)
        wnorm[wnorm == 0] = 1.0
        cnorm = np.sqrt(sums[:, 2 * K + 1])
        cnorm[cnorm == 0] = 1.0
        scans = []
        Xq = self.cues.transform_tokens(texts, toks, keep=scans) * self.w_cues
        scores = word_num / wnorm[:, None] + sums[:, K:2 * K] / cnorm[:, None] + Xq @ self.cue_coef.T + self.intercept
        return Batch(scores, Xq, toks, words, tok_rows, offset, wnorm, cnorm, scans, pair_ids)

    def _pair_ids(self, tok_rows, offset):
        """Word-vocabulary id of the bigram starting at each token (``nw`` if none)."""
        u = self._uid[tok_rows]
        keys = u[:-1] * self.nw + u[1:]
        ok = (u[:-1] >= 0) & (u[1:] >= 0)
        ends = offset[1:-1] - 1  # the last word of a sentence starts no bigram
        ok[ends[(ends >= 0) & (ends < len(ok))]] = False
        out = np.full(len(keys), self.nw, dtype=np.int64)
        if len(self._bkeys):
            pos = np.searchsorted(self._bkeys, keys)
            pos[pos >= len(self._bkeys)] = 0
            found = ok & (self._bkeys[pos] == keys)
            out[found] = self._bids[pos[found]]
        return out

    def token_contributions(self, batch, rows):
        """Each word's share of the n-gram score, for the sentences `rows` of a batch.

        Returns ``(C, start)``: C is ``(n_words, n_classes)``, sentence ``rows[r]`` owns
        ``C[start[r]:start[r + 1]]``. A word's share is its unigram and character
        n-grams plus half of each bigram it is part of; shares sum to the score.
        """
        K = self.K
        rows = np.asarray(rows, dtype=np.int64)
        a, b = batch.tok_offset[rows], batch.tok_offset[rows + 1]
        lens = b - a
        start = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lens, out=start[1:])
        idx = np.arange(start[-1]) - np.repeat(start[:-1] - a, lens)  # global token positions
        G = self._table[batch.tok_rows[idx]]
        wn = np.repeat(batch.wnorm[rows], lens)[:, None]
        C = G[:, :K] / wn + G[:, K:2 * K] / np.repeat(batch.cnorm[rows], lens)[:, None]
        if batch.pair_ids is not None:
            # The bigram starting at a sentence's last word is the zero row, so shares
            # never leak across sentences.
            T = len(batch.tok_rows)
            nxt = np.where(idx < T - 1, batch.pair_ids[np.clip(idx, 0, T - 2)], self.nw)
            prv = np.where(idx > 0, batch.pair_ids[np.clip(idx - 1, 0, T - 2)], self.nw)
            C += (self.word_rows[nxt, :K] + self.word_rows[prv, :K]) / (2 * wn)
        return C, start

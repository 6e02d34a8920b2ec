"""slant.model.tokenfeatures: the span model's token features, hashed once, read as the
same matrix `FeatureHasher` makes of the feature strings."""

import numpy as np
from sklearn.feature_extraction import FeatureHasher

from slant.model.tokenfeatures import N_FEATURES, lexicon_families, token_matrix, token_table


def _hashed(features):
    X = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False).transform(features).tocsr()
    X.sum_duplicates()
    X.sort_indices()
    return X


def test_a_tokens_features_are_those_written_out():
    text = "Officials said “reform” failed."
    spans, words, rows = token_table(text)
    assert words == ["officials", "said", "reform", "failed"]
    assert [text[a:b] for a, b in spans] == ["Officials", "said", "reform", "failed"]
    fams = lexicon_families(words)
    expected = [
        ["w=officials", "sh=Xxx", "p3=off", "x3=als", "x2=ls", "cap0", "w-2=<s>", "w-1=<s>", "w+1=said",
         *(f"f+1={f}" for f in fams[1]), "w+2=reform", *(f"f+2={f}" for f in fams[2]),
         "b-=<s>|officials", "b+=officials|said", *(f"fam={f}" for f in fams[0]), "pos=0"],
        ["w=reform", "sh=xx", "p3=ref", "x3=orm", "x2=rm", "inq", "w-2=officials", *(f"f-2={f}" for f in fams[0]), "cap-2",
         "w-1=said", *(f"f-1={f}" for f in fams[1]), "w+1=failed", *(f"f+1={f}" for f in fams[3]), "w+2=</s>",
         "b-=said|reform", "b+=reform|failed", *(f"fam={f}" for f in fams[2]), "pos=2"],
    ]
    X = token_matrix(rows)
    X.sort_indices()
    for k, feats in zip((0, 2), expected):
        want = _hashed([feats])
        assert (X[k] != want).nnz == 0, (k, feats)


def test_the_matrix_matches_feature_hasher_counts_including_repeats():
    rows = [[5, 5, 7], [], [N_FEATURES - 1]]
    X = token_matrix(rows)
    assert X.shape == (3, N_FEATURES)
    assert X[0, 5] == 2 and X[0, 7] == 1 and X[1].nnz == 0 and X[2, N_FEATURES - 1] == 1


def test_memoised_tokens_give_the_same_rows_in_any_context():
    a = token_table("The Minister said the plan was sound.")[2]
    token_table("THE MINISTER SAID.")  # other forms of the same words in between
    b = token_table("The Minister said the plan was sound.")[2]
    assert a == b
    assert token_table("") == ([], [], [])
    assert token_table("... — !")[0] == []
    X = token_matrix(token_table("A “quoted” phrase, said Ana.")[2])
    assert X.shape[0] == 5 and np.all(X.data >= 1)

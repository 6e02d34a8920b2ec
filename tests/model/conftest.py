"""Shared fixtures of the model tests: a three-category taxonomy, sentences written for it, a fitted classifier and model."""

import random

import pytest

from slant.model.classifier import SlantClassifier
from slant.model.fit import train_model
from slant.taxonomy.core import load_taxonomy

TINY_IDS = ["loaded_language", "attribution_vague", "omission"]


@pytest.fixture(scope="session")
def tiny_tax_path(sub_taxonomy):
    return sub_taxonomy("tiny", TINY_IDS)


@pytest.fixture(scope="session")
def tiny_tax(tiny_tax_path):
    return load_taxonomy(tiny_tax_path)


def _tiny_records():
    """Sentences written for these tests: three categories plus plain ones, 12 documents."""
    rng = random.Random(7)
    topics = ["library", "transit", "water", "school", "park", "housing", "road", "clinic", "port", "museum", "police", "bridge"]
    charged = ["slashed", "gutted", "rammed through", "torpedoed", "hijacked", "squandered"]
    vague = ["Critics say", "Officials said", "Some experts warn", "Sources claim"]
    out = []
    for d, topic in enumerate(topics):
        doc = f"doc{d:02d}"
        rows = [
            (f"The council {rng.choice(charged)} the {topic} budget in a shameful late-night vote.", ["loaded_language"]),
            (f"{rng.choice(vague)} the {topic} plan will fail within a year.", ["attribution_vague"]),
            (f"Complaints about the {topic} service jumped {rng.randint(20, 90)} percent.", ["omission"]),
            (f"The {topic} board met on Tuesday and approved the minutes.", []),
            (f"A public hearing on the {topic} project is scheduled for next month.", []),
            (f"The {topic} department employs staff in three offices.", []),
        ]
        for i, (text, labels) in enumerate(rows):
            out.append({"id": f"{doc}-{i}", "doc_id": doc, "text": text, "labels": labels})
    return out


@pytest.fixture(scope="session")
def records():
    return _tiny_records()


@pytest.fixture(scope="session")
def clf(records):
    X = [r["text"] for r in records]
    y = [r["labels"] for r in records]
    return SlantClassifier(classes=TINY_IDS, cv=3, min_df=1).fit(X, y, groups=[r["doc_id"] for r in records])


@pytest.fixture(scope="session")
def tiny_model(records, tiny_tax):
    return train_model(records, taxonomy=tiny_tax, cv=3, params={"min_df": 1})


@pytest.fixture(scope="session")
def explain_texts():
    return [
        "The council slashed the library budget in a shameful late-night vote.",
        "Critics say the “transit” plan will fail — and 40% of riders agree!",
        "Complaints about the  water service jumped 45 percent.",
        "The school board met on Tuesday.",
    ]

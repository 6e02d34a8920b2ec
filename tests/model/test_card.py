"""The model card."""


from jsonschema import Draft202012Validator

from slant._files import schema

TINY_IDS = ["loaded_language", "attribution_vague", "omission"]


def test_card_follows_schema(tiny_model, tiny_tax):
    card = tiny_model.card
    assert not list(Draft202012Validator(schema("model-card")).iter_errors(card))
    assert card["taxonomy"] == {"id": "tiny", "version": tiny_tax.version, "hash": tiny_tax.hash}
    assert card["training_data"]["sentences"] == 72 and card["training_data"]["documents"] == 12
    assert card["training_data"]["label_counts"] == {"loaded_language": 12, "attribution_vague": 12, "omission": 12}
    assert set(card["cv"]["categories"]) == set(TINY_IDS)
    assert card["model_version"].startswith("trained-")
    assert {"scikit-learn", "numpy", "scipy", "skops", "slant", "python"} <= set(card["libraries"])

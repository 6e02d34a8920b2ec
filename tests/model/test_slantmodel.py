"""SlantModel.predict and Prediction."""


from slant.model.slantmodel import Prediction

TINY_IDS = ["loaded_language", "attribution_vague", "omission"]


def test_predict_returns_predictions(tiny_model, explain_texts):
    preds = tiny_model.predict(explain_texts)
    assert all(isinstance(p, Prediction) for p in preds)
    assert preds[0].labels == ["loaded_language"]
    assert list(preds[0].scores) == TINY_IDS
    assert all(0 <= p.uncertainty <= 1 for p in preds)
    assert tiny_model.predict([]) == []
    assert tiny_model.predict(explain_texts[:1], explain=False)[0].spans == []

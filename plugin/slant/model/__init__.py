"""The model: cues, features, the estimator, explanations, model card, skops persistence, training."""

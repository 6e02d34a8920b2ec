"""The Label Studio ML backend: app, journal, trainer, predictors."""

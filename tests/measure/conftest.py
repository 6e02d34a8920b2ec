"""Fixtures of the measure tests: a synthetic corpus with known truth (helpers.measure)."""

import pytest

from helpers.measure import Population, uniform_rows


@pytest.fixture(scope="session")
def population():
    return Population()


@pytest.fixture(scope="session")
def corpus_dir(population, tmp_path_factory):
    return population.write_parquet(tmp_path_factory.mktemp("corpus") / "predictions")


@pytest.fixture
def uniform_audit(population, tmp_path):
    return population.audit(tmp_path / "audit.jsonl", uniform_rows(population), 400 / population.n)

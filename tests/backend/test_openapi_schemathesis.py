"""schemathesis against the backend's own OpenAPI description: whatever request it makes
up (valid, or deliberately invalid), the server never answers 5xx, and every answer
matches the document. Runs the real default model so odd text reaches the classifier."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from slant.backend.app import ServerAuth, create_app
from slant.backend.openapi import openapi_document

AUTH = ServerAuth("ls", "pw-123", "tok-456")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from slant.model.seed import load_model
    from slant.taxonomy.core import load_taxonomy

    tax = load_taxonomy()
    return create_app(model_source=load_model(None, taxonomy=tax), taxonomy=tax, auth=AUTH,
                      journal_dir=tmp_path_factory.mktemp("journal"), train_every=0)


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# Negative cases need something to break: GETs without parameters have no invalid input.
CASES = [
    (method.upper(), path, mode)
    for path, ops in openapi_document()["paths"].items() for method, op in ops.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or "requestBody" in op or "parameters" in op
]


@pytest.mark.parametrize("method,path,mode", CASES, ids=[f"{m} {p} {g}" for m, p, g in CASES])
def test_no_server_errors_and_answers_match_the_document(api_schema, method, path, mode):
    operation = api_schema[path][method]
    checks = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:  # made-up invalid input is only held to "no 5xx"
        checks += [status_code_conformance, content_type_conformance, response_schema_conformance]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        # Authenticated, so requests reach the handlers; /webhook/{token} ignores basic auth.
        case.call_and_validate(auth=("ls", "pw-123"), checks=checks)

    run()

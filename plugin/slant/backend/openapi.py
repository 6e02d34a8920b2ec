"""The OpenAPI 3.0 description of the ML backend (served at ``/openapi.json``), and the
request `Limits` it documents and the app enforces."""

from dataclasses import dataclass

from slant.text.segment import MAX_SENTENCE_CHARS

__all__ = ["Limits", "openapi_document"]


@dataclass(frozen=True)
class Limits:
    max_body: int = 64 * 1024 * 1024   # LS sends every selected task in one /predict call
    max_tasks: int = 20_000            # ~60 s of model time, inside LS's 100 s predict timeout
    max_text: int = MAX_SENTENCE_CHARS  # characters in one task's text: the longest sentence slant makes
    max_batch: int = 128               # sentences per model call when requests are merged (a small cap keeps
                                       # a 100-task request from waiting on others merged with it)


def _obj(properties=None, required=(), **extra):
    out = {"type": "object", "properties": properties or {}, **extra}
    if required:
        out["required"] = list(required)
    return out


def openapi_document(limits=None):
    """The OpenAPI 3.0 description of the endpoints (served at ``/openapi.json``)."""
    limits = limits or Limits()
    error = {"description": "JSON error", "content": {"application/json": {"schema": _obj({"error": {"type": "string"}}, ["error"])}}}
    err = {"400": {**error, "description": "malformed JSON, tasks or payload"},
           "401": {**error, "description": "missing or wrong credentials"},
           "413": {**error, "description": f"body larger than {limits.max_body} bytes"}}
    region = _obj({"id": {"type": "string"}, "from_name": {"type": "string"}, "to_name": {"type": "string"},
                   "type": {"type": "string", "enum": ["choices", "labels"]}, "value": {"type": "object"},
                   "score": {"type": "number"}}, ["from_name", "to_name", "type", "value"])
    prediction = _obj({"model_version": {"type": "string"}, "score": {"type": "number", "minimum": 0, "maximum": 1},
                       "result": {"type": "array", "items": region}}, ["model_version", "score", "result"])
    task = _obj({"id": {"type": "integer"}, "data": _obj({"text": {"type": "string", "maxLength": limits.max_text},
                                                          "slant_id": {"type": "string"}}, ["text"])}, ["data"])
    annotation = _obj({"id": {"type": "integer"}, "task": {"type": "integer"}, "result": {"type": "array", "items": {"type": "object"}},
                       "was_cancelled": {"type": "boolean"}, "completed_by": {"type": "integer"}}, ["id"])
    ok = lambda desc, schema: {"description": desc, "content": {"application/json": {"schema": schema}}}
    json_body = lambda schema: {"required": True, "content": {"application/json": {"schema": schema}}}
    webhook_body = json_body(_obj({
        "action": {"type": "string", "enum": ["ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED",
                                              "ANNOTATIONS_DELETED", "TASKS_DELETED", "START_TRAINING"]},
        "annotation": annotation, "task": task, "annotations": {"type": "array", "items": _obj({"id": {"type": "integer"}}, ["id"])},
        "project": _obj({"id": {"type": "integer"}}),
    }, ["action"]))
    webhook_ok = {"201": ok("event journaled (fsynced) before this reply", _obj({"status": {"type": "string"}, "offset": {"type": "integer"}})),
                  "200": ok("ignored: an action not used for training, or a replay of an event already journaled "
                            "(status \"duplicate\")", _obj({"status": {"type": "string"}})), **err}
    return {
        "openapi": "3.0.3",
        "info": {"title": "slant ML backend", "version": "1",
                 "description": "Label Studio ML backend protocol served by `slant serve` (docs/ml-backend.md)."},
        "components": {"securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}}},
        "security": [{"basicAuth": []}],
        "paths": {
            "/health": {"get": {"summary": "liveness, served model version and training state",
                                "responses": {"200": ok("up", _obj({"status": {"type": "string"}, "model_version": {"type": "string"}}, ["status", "model_version"])),
                                              "401": err["401"]}}},
            "/setup": {"post": {"summary": "Label Studio connects a project; checks its labeling config",
                                "requestBody": json_body(_obj({"project": {"type": "string"}, "schema": {"type": "string"}})),
                                "responses": {"200": ok("the served model version", _obj({"model_version": {"type": "string"}}, ["model_version"])), **err}}},
            "/predict": {"post": {"summary": "one prediction per task, in order (the JSON `slant push` imports)",
                                  "requestBody": json_body(_obj({"tasks": {"type": "array", "maxItems": limits.max_tasks, "items": task},
                                                                 "project": {"type": "string"}, "label_config": {"type": "string"}}, ["tasks"])),
                                  "responses": {"200": ok("predictions", _obj({"results": {"type": "array", "items": prediction},
                                                                              "model_version": {"type": "string"}}, ["results", "model_version"])), **err}}},
            "/webhook": {"post": {"summary": "Label Studio event (START_TRAINING from the ML connection, with basic auth)",
                                  "requestBody": webhook_body, "responses": webhook_ok}},
            "/webhook/{token}": {"post": {
                "summary": "Label Studio webhook event; the secret token in the path replaces basic auth",
                "security": [], "requestBody": webhook_body,
                "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {**webhook_ok, "403": {**error, "description": "wrong token"}}}},
            "/openapi.json": {"get": {"summary": "this document", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 3.0 document"}}}},
        },
    }

"""The live ML backend for Label Studio: an app factory, no module globals.

Label Studio's ML protocol: ``GET /health``, ``POST /setup`` (answers the model version),
``POST /predict`` (a batch of tasks in, one prediction per task out, in order, the same
JSON `slant push` imports) and ``POST /webhook`` (annotation events and START_TRAINING).
``GET /openapi.json`` describes them.

>>> app = create_app(model_source=Registry(root), taxonomy=tax, auth=ServerAuth("ml", pw, token),
...                  journal_dir=data_dir / "journal")
>>> uvicorn.run(app, port=9090)          # `slant serve` does this (see `serve`)

Label Studio calls /health, /setup and /predict with HTTP basic auth; its webhooks carry
none, so /webhook also accepts the secret token in its path (``/webhook/<token>``).
A `SlantError` becomes a 4xx JSON answer, anything else a generic 500 whose traceback
goes to the log only.
"""

import asyncio
import base64
import hmac
import json
import logging
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from slant.backend.journal import Journal, Trainer, normalize_event
from slant.backend.predictors import ProcessPredictor, ThreadPredictor
from slant.errors import DataError, SlantError
from slant.taxonomy.core import CHOICES_NAME, SPANS_NAME

__all__ = ["Limits", "ServerAuth", "create_app"]

log = logging.getLogger("slant.backend.app")


@dataclass(frozen=True)
class ServerAuth:
    """Basic-auth credentials Label Studio must send, and the webhook's secret token."""

    username: str
    password: str = field(repr=False)
    webhook_token: str = field(repr=False, default="")


@dataclass(frozen=True)
class Limits:
    max_body: int = 64 * 1024 * 1024   # LS sends every selected task in one /predict call
    max_tasks: int = 20_000            # ~60 s of model time, inside LS's 100 s predict timeout
    max_text: int = 100_000            # characters in one task's text
    max_batch: int = 128               # sentences per model call when requests are merged (a small cap keeps
                                       # a 100-task request from waiting on others merged with it)


class _TooLarge(Exception):
    pass


# --- the current model ------------------------------------------------------------------

class ModelSlot:
    """The model being served; replaced in one assignment, so a request sees one model."""

    def __init__(self, model):
        self.model = model

    @property
    def version(self):
        return str(self.model.model_version)


# --- request helpers ---------------------------------------------------------------------

def _error(status, message):
    return JSONResponse({"error": message}, status_code=status)


def _basic_ok(header, auth):
    if not header or not header.startswith("Basic "):
        return False
    try:
        user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    # Both comparisons always run, in constant time, so timing tells nothing about which failed.
    user_ok = hmac.compare_digest(user.encode(), auth.username.encode())
    pass_ok = hmac.compare_digest(password.encode(), auth.password.encode())
    return bool(sep) and user_ok and pass_ok


def _unauthorized():
    return JSONResponse({"error": "authentication required: send the basic-auth credentials `slant serve` printed "
                                  "(Label Studio: Model settings, Use authentication)"},
                        status_code=401, headers={"WWW-Authenticate": 'Basic realm="slant"'})


async def _read_json(request, limits):
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limits.max_body:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limits.max_body:
            raise _TooLarge
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"request body is not valid JSON ({exc}); send a JSON object") from None


def _project_id(value):
    """Label Studio names projects "<id>.<created timestamp>" in /setup and /predict."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    head = str(value or "").split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _task_inputs(body, limits):
    if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
        raise DataError("/predict expects a JSON object {\"tasks\": [{\"id\": ..., \"data\": {\"text\": ...}}, ...]} as Label Studio sends it")
    tasks = body["tasks"]
    if len(tasks) > limits.max_tasks:
        raise DataError(f"/predict got {len(tasks)} tasks; at most {limits.max_tasks} per request. "
                        "Select fewer tasks in the Data Manager before 'Retrieve Predictions'")
    texts, keys = [], []
    for i, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        text = data.get("text") if isinstance(data, dict) else None
        where = f"task {i}" + (f" (id {task.get('id')})" if isinstance(task, dict) and "id" in task else "")
        if not isinstance(text, str):
            raise DataError(f"/predict {where}: data.text must be a string; the project needs slant's labeling config "
                            "(create it with `slant push`), whose Text tag reads $text")
        if len(text) > limits.max_text:
            raise DataError(f"/predict {where}: text has {len(text)} characters, more than {limits.max_text}; "
                            "slant labels sentences: split documents with `slant push`")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise DataError(f"/predict {where}: text holds an unpaired surrogate escape; send valid Unicode") from None
        texts.append(text)
        key = data.get("slant_id") or task.get("id") or i
        keys.append(str(key))
    return texts, keys


def check_label_config(config, taxonomy):
    """Raise `DataError` when a project's labeling config cannot show this taxonomy's labels."""
    try:
        root = ET.fromstring(config)
    except ET.ParseError as exc:
        raise DataError(f"the project's labeling config is not valid XML ({exc}); create the project with `slant push`") from None
    choices = {c.get("value") for tag in root.iter("Choices") if tag.get("name") == CHOICES_NAME for c in tag.iter("Choice")}
    labels = {c.get("value") for tag in root.iter("Labels") if tag.get("name") == SPANS_NAME for c in tag.iter("Label")}
    missing = [c.name for c in taxonomy.categories if c.sentence_level and c.name not in choices]
    missing += [c.name for c in taxonomy.categories if c.span_level and c.name not in labels and c.name not in missing]
    if missing:
        raise DataError(
            f"the project's labeling config has no choice or label for {', '.join(missing)} of taxonomy {taxonomy.id} "
            f"{taxonomy.version}; connect this backend to a project made by `slant push` with the same taxonomy"
        )


def _guard(handler):
    """SlantError -> 400 JSON, too large -> 413, anything else -> generic 500 (traceback logged)."""

    async def wrapped(request):
        try:
            return await handler(request)
        except _TooLarge:
            limit = request.app.state.limits.max_body
            return _error(413, f"request body larger than {limit} bytes; send fewer tasks per request")
        except SlantError as exc:
            return _error(400, str(exc))
        except HTTPException:
            raise
        except Exception:
            log.exception("internal error on %s %s", request.method, request.url.path.split("/webhook/")[0])
            return _error(500, "internal error in the slant ML backend; the traceback is in the server log")

    return wrapped


# --- OpenAPI ----------------------------------------------------------------------------

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
                  "200": ok("action not used for training; ignored", _obj({"status": {"type": "string"}})), **err}
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


# --- the app -----------------------------------------------------------------------------

def create_app(*, model_source, taxonomy, auth, journal_dir=None, model=None, train_every=10, debounce=5.0,
               train_job=None, on_promote=None, limits=None, poll_registry=2.0, cache_dir=None, model_processes=0):
    """The ASGI app for one taxonomy.

    - `model_source`: a `SlantModel` served as it is, or a model registry
      (`slant.loop.train.Registry`): its current model is served, training promotes into it
      and the app follows promotions made elsewhere (``slant models promote``).
    - `model`: serve this model first instead of the registry's current one (``--model``).
    - `auth`: `ServerAuth`, or None to accept every request (tests and trusted sockets only).
    - `journal_dir`: where webhook events are journaled; None turns the webhook off.
    - `train_every`: new annotation events that start a background retrain (0: only
      START_TRAINING); `debounce` seconds of quiet are awaited first.
    - `train_job(records, *, registry, taxonomy) -> dict` replaces the real retraining
      (`journal.retrain_job` in a child process); `on_promote(version, project_ids)` runs
      after a promotion. `cache_dir` holds the default model's build cache.
    - `model_processes`: run the model in that many child processes
      (`predictors.ProcessPredictor`); 0 runs it in a thread of this process.
    """
    limits = limits or Limits()
    registry = None if hasattr(model_source, "predict") else model_source
    initial = model or (model_source if registry is None else registry.current_model(taxonomy, cache_dir=cache_dir))
    slot = ModelSlot(initial)
    predictor = (ProcessPredictor(slot, taxonomy, limits.max_batch, model_processes) if model_processes
                 else ThreadPredictor(slot, taxonomy, limits.max_batch))
    journal = Journal(journal_dir) if journal_dir is not None else None
    projects = set()
    trainer = None
    if journal is not None:
        trainer = Trainer(journal=journal, taxonomy=taxonomy, registry=registry, slot=slot, train_every=train_every,
                          debounce=debounce, job=train_job, on_promote=on_promote, projects=projects,
                          poll=poll_registry, cache_dir=cache_dir)

    def authorized(request):
        return auth is None or _basic_ok(request.headers.get("authorization"), auth)

    @_guard
    async def health(request):
        if not authorized(request):
            return _unauthorized()
        body = {"status": "UP", "model_class": "SlantModel", "model_version": slot.version, "taxonomy": taxonomy.id}
        if trainer is not None:
            body["training"] = trainer.status()
        return JSONResponse(body)

    @_guard
    async def setup(request):
        if not authorized(request):
            return _unauthorized()
        body = await _read_json(request, limits)
        if not isinstance(body, dict):
            raise DataError("/setup expects a JSON object as Label Studio sends it ({\"project\": ..., \"schema\": ...})")
        if isinstance(body.get("schema"), str) and body["schema"].strip():
            check_label_config(body["schema"], taxonomy)
        if _project_id(body.get("project")) is not None:
            projects.add(_project_id(body.get("project")))
        return JSONResponse({"model_version": slot.version})

    @_guard
    async def predict(request):
        if not authorized(request):
            return _unauthorized()
        body = await _read_json(request, limits)
        texts, keys = _task_inputs(body, limits)
        if not texts:
            return JSONResponse({"results": [], "model_version": slot.version})
        version, encoded = await predictor.predict(texts, keys)
        # The predictions come encoded (in the model process); only the envelope is added here.
        body = b"".join((b'{"results":[', b",".join(encoded), b'],"model_version":', json.dumps(version).encode(), b"}"))
        return Response(body, media_type="application/json")

    @_guard
    async def webhook(request):
        token = request.path_params.get("token")
        if token is not None:
            if not auth or not auth.webhook_token or not hmac.compare_digest(token.encode(), auth.webhook_token.encode()):
                return _error(403, "wrong webhook token; copy the webhook URL `slant serve --connect` registered")
        elif auth is not None and not _basic_ok(request.headers.get("authorization"), auth):
            return _error(401, "webhook needs its secret token in the URL (/webhook/<token>) or basic auth")
        if journal is None:
            return _error(404, "this backend keeps no journal; start it with a data directory to learn from annotations")
        event = normalize_event(await _read_json(request, limits))
        if event is None:
            return JSONResponse({"status": "ignored"})
        if event.get("project") is not None:
            projects.add(event["project"])
        # Durable before the reply: an acknowledged event survives a crash.
        offset = await asyncio.to_thread(journal.append, event)
        trainer.notify(event)
        return JSONResponse({"status": "journaled", "offset": offset}, status_code=201)

    async def openapi(request):
        return JSONResponse(openapi_document(limits))

    async def http_error(request, exc):
        return _error(exc.status_code, exc.detail or "error")

    @asynccontextmanager
    async def lifespan(app):
        predictor.start()
        await asyncio.to_thread(predictor.wait_ready)  # serve only once the model processes hold the model
        if trainer is not None:
            trainer.start()
        try:
            yield
        finally:
            if trainer is not None:
                trainer.stop()
            predictor.stop()

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/setup", setup, methods=["POST"]),
            Route("/predict", predict, methods=["POST"]),
            Route("/webhook", webhook, methods=["POST"]),
            Route("/webhook/{token}", webhook, methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.limits = limits
    app.state.slot = slot
    app.state.predictor = predictor
    app.state.trainer = trainer
    app.state.journal = journal
    app.state.projects = projects
    return app


class AccessLog:
    """ASGI middleware: one log line per request, with the webhook token cut out."""

    def __init__(self, app, logger=None):
        self.app = app
        self.log = logger or logging.getLogger("slant.backend.app.access")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        began, status = time.perf_counter(), [0]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = scope.get("path", "")
            if path.startswith("/webhook/"):
                path = "/webhook/<token>"
            client = (scope.get("client") or ("-",))[0]
            self.log.info('%s "%s %s" %s %.1f ms', client, scope.get("method"), path, status[0],
                          (time.perf_counter() - began) * 1000)


# --- running it: credentials, uvicorn, --connect ------------------------------------------

_CREDENTIALS = "ml-backend.json"


def ensure_credentials(data_dir, *, username=None, password=None, webhook_token=None):
    """`ServerAuth` for `slant serve`: the given values (from the environment), else the
    ones stored in ``<data_dir>/ml-backend.json`` (mode 0600), else new random ones,
    stored there. Returns ``(auth, path, generated)``."""
    import os
    import secrets
    from pathlib import Path

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / _CREDENTIALS
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        stored = stored if isinstance(stored, dict) else {}
    except (OSError, ValueError):
        stored = {}
    wanted = {
        "username": stored.get("username") or "slant",
        "password": stored.get("password") or secrets.token_urlsafe(24),
        "webhook_token": stored.get("webhook_token") or secrets.token_urlsafe(32),
    }
    generated = wanted != {k: stored.get(k) for k in wanted}
    if generated:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(wanted, fh, indent=2)
    if (username is None) != (password is None):
        raise DataError("set both SLANT_ML_USERNAME and SLANT_ML_PASSWORD, or neither (then `slant serve` keeps "
                        f"generated ones in {path})")
    auth = ServerAuth(username or wanted["username"], password or wanted["password"], webhook_token or wanted["webhook_token"])
    return auth, path, generated


def _wait_up(url, auth, timeout=600.0):
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", auth=(auth.username, auth.password), timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def build_app(*, auth, data_dir, models_dir, taxonomy_path=None, model_version=None, train_every=10, debounce=5.0,
              studio_url=None, studio_key=None, projects=(), cache_dir=None, model_processes=0):
    """The app `slant serve` runs: the registry's model (or `model_version`), the journal in
    ``<data_dir>/journal``, and, with a Label Studio URL and token, promotions pushed to
    the connected projects (`studio.refresh_live_predictions`)."""
    from slant.loop.train import Registry
    from slant.taxonomy.core import load_taxonomy

    taxonomy = load_taxonomy(taxonomy_path)
    registry = Registry(models_dir)
    model = registry.load(model_version, taxonomy) if model_version else registry.current_model(taxonomy, cache_dir=cache_dir)
    on_promote = None
    if studio_url and studio_key:
        def on_promote(version, project_ids):
            from slant.studio.core import connect, refresh_live_predictions

            studio = connect(studio_url, studio_key)
            for pid in sorted(set(project_ids) | {int(p) for p in projects}):
                n = refresh_live_predictions(studio, pid, version)
                log.info("project %s: asked Label Studio for %s predictions of %d unannotated tasks", pid, version, n)
    from pathlib import Path

    return create_app(model_source=registry, model=model, taxonomy=taxonomy, auth=auth,
                      journal_dir=Path(data_dir) / "journal", train_every=train_every, debounce=debounce,
                      on_promote=on_promote, cache_dir=cache_dir, model_processes=model_processes)


_CONFIG_ENV = "SLANT_SERVE_CONFIG"


def app_from_env():
    """uvicorn's app factory for ``--workers N``: each worker process builds the app from
    the 0600 file named by $SLANT_SERVE_CONFIG, which `serve` wrote."""
    import os

    with open(os.environ[_CONFIG_ENV], encoding="utf-8") as fh:
        config = json.load(fh)
    config["auth"] = ServerAuth(**config["auth"])
    return AccessLog(build_app(**config))


def serve(*, build, auth, host="127.0.0.1", port=9090, workers=1, connect=None, stream=None, log_level="info"):
    """Run the backend with uvicorn until Ctrl-C. `build` holds `build_app`'s keyword
    arguments. `connect()`, if given, runs once the server answers /health
    (``--connect``: register it with Label Studio) and its summary is printed."""
    import os
    import sys
    from pathlib import Path

    import uvicorn

    stream = stream or sys.stdout
    if workers < 1:
        raise DataError(f"--workers {workers}: use 1 or more")
    if build.get("model_processes", 0) < 0:
        raise DataError(f"--model-processes {build['model_processes']}: use 0 (a thread) or more")
    options = dict(host=host, port=port, access_log=False, log_level=log_level, lifespan="on", timeout_graceful_shutdown=10)
    if workers == 1:
        server = uvicorn.Server(uvicorn.Config(AccessLog(build_app(auth=auth, **build)), **options))
        run = server.run
    else:
        path = Path(build["data_dir"]) / "serve-workers.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({**build, "auth": {"username": auth.username, "password": auth.password,
                                         "webhook_token": auth.webhook_token}}, fh, default=str)
        os.environ[_CONFIG_ENV] = str(path)

        def run():
            try:
                uvicorn.run("slant.backend.app:app_from_env", factory=True, workers=workers, **options)
            finally:
                path.unlink(missing_ok=True)  # it holds the password
    if connect is not None:
        local = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"

        def run_connect():
            if not _wait_up(local, auth):
                print(f"error: the backend did not answer on {local}/health; not registered", file=stream, flush=True)
                return
            try:
                print(connect(), file=stream, flush=True)
            except SlantError as exc:
                print(f"error: {exc}", file=stream, flush=True)

        threading.Thread(target=run_connect, name="slant-connect", daemon=True).start()
    run()
    return 0

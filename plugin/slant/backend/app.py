"""The live ML backend for Label Studio: an app factory, no module globals.

Label Studio's ML protocol: ``GET /health``, ``POST /setup`` (answers the model version),
``POST /predict`` (a batch of tasks in, one prediction per task out, in order, the same
JSON `slant push` imports) and ``POST /webhook`` (annotation events and START_TRAINING).
``GET /openapi.json`` describes them (slant.backend.openapi).

>>> app = create_app(model_source=Registry(root), taxonomy=tax, auth=ServerAuth("ml", pw, token),
...                  journal_dir=data_dir / "journal")
>>> uvicorn.run(app, port=9090)          # `slant serve` does this (slant.backend.run.serve)

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
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from slant.backend.journal import Journal, normalize_event
from slant.backend.openapi import Limits, openapi_document
from slant.backend.predictors import ProcessPredictor, ThreadPredictor
from slant.backend.trainer import Trainer
from slant.errors import DataError, SlantError
from slant.studio.lsformat import check_label_config

__all__ = ["AccessLog", "Limits", "ModelSlot", "ServerAuth", "create_app"]

log = logging.getLogger("slant.backend.app")


@dataclass(frozen=True)
class ServerAuth:
    """Basic-auth credentials Label Studio must send, and the webhook's secret token."""

    username: str
    password: str = field(repr=False)
    webhook_token: str = field(repr=False, default="")


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
    except RecursionError:
        # The parser recurses once per nesting level; Label Studio never sends more than a few.
        raise DataError("request body nests JSON too deeply; send the flat objects Label Studio sends") from None


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
        if offset is None:  # a replay: already journaled, counts towards nothing
            return JSONResponse({"status": "duplicate"})
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

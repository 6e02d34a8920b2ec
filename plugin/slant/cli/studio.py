"""Label Studio commands: `slant studio`, `push`, `demo`, `pull`, and `import` (public
corpora into the reviewed-label records `pull` writes)."""

from pathlib import Path

from slant.cli.common import (
    MODEL_HELP,
    add_models_option,
    add_output_option,
    add_studio_target_options,
    add_taxonomy_option,
    cache_dir,
    check_output,
    check_output_dir,
    corpus_ready,
    pick_model,
    studio_target,
)
from slant.errors import SlantError

__all__ = ["add_import", "add_pull", "add_studio"]

POLICIES = ["majority", "unanimous", "ground-truth", "any", "adjudicated"]


def _waiting(message):
    """`connect`'s on_wait: a line on stderr while Label Studio is silent."""
    import sys

    print(message, file=sys.stderr, flush=True)


# --- pull -------------------------------------------------------------------------------

def _cmd_pull(args):
    from slant.loop.pull import pull
    from slant.studio.client import connect
    from slant.taxonomy.core import load_taxonomy

    check_output(args.out)
    summary = pull(connect(*studio_target(args), on_wait=_waiting), project=args.project, out=args.out,
                   taxonomy=load_taxonomy(args.taxonomy), policy=args.policy, min_annotators=args.min_annotators)
    print(summary.format())
    return 0


def add_pull(sub):
    p = sub.add_parser("pull", help="export a Label Studio project's annotations as adjudicated reviewed labels")
    p.add_argument("--project", required=True, metavar="NAME", help="project title or id")
    add_output_option(p, "reviewed-label records to write", required=True, metavar="FILE.jsonl")
    p.add_argument("--policy", choices=POLICIES, default="majority",
                   help="adjudication: majority (> half), unanimous, ground-truth (else majority), any (union), "
                   "adjudicated (the adjudicator's answer from `slant adjudicate`, else majority)")
    p.add_argument("--min-annotators", type=int, default=0, metavar="K",
                   help="skip tasks with fewer than K non-cancelled annotations (default 0: write every task)")
    add_taxonomy_option(p)
    add_studio_target_options(p)
    p.set_defaults(func=_cmd_pull)


# --- import ---------------------------------------------------------------------------

def _cmd_import(args):
    from slant.records.brat import import_brat
    from slant.records.ptc import import_ptc
    from slant.records.tabular import import_csv
    from slant.taxonomy.core import load_taxonomy

    check_output(args.out)
    tax = load_taxonomy(args.taxonomy)
    existed = Path(args.out).exists()
    try:
        if args.corpus == "csv":
            summary = import_csv(
                args.path, text_col=args.text_col, label_col=args.label_col, taxonomy=tax, out=args.out,
                mapping=args.map, sep=args.sep, quoting=args.quoting, id_col=args.id_col, doc_col=args.doc_col,
            )
        else:
            importer = import_ptc if args.corpus == "ptc" else import_brat
            summary = importer(args.path, taxonomy=tax, out=args.out)
    except SlantError:
        if not existed:  # a failed import leaves no half-written file of its own
            Path(args.out).unlink(missing_ok=True)
        raise
    print(summary.format())
    return 0


def add_import(sub):
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
        add_output_option(c, "reviewed-label records to write", required=True, metavar="OUT.jsonl")
        add_taxonomy_option(c, "taxonomy whose mappings translate the labels (default: built-in)")
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


# --- studio, push, demo ------------------------------------------------------------------

def _cmd_studio(args):
    from slant.studio.server import run_studio

    check_output_dir(args.data_dir, "--data-dir")
    if args.database_url and args.database == "sqlite":
        raise SlantError("--database-url names a PostgreSQL server; drop --database sqlite (or the URL)")
    return run_studio(data_dir=args.data_dir, port=args.port, host=args.host,
                      database=args.database or ("postgresql" if args.database_url else "sqlite"),
                      database_url=args.database_url)


_SELECT_STRATEGIES = ("uncertainty", "margin", "entropy", "diverse")
_SAMPLE_STRATEGIES = ("uncertainty", "random", "stratified")


def _check_corpus_args(args):
    if not args.from_dir:
        for flag, value in (("--sample", args.sample), ("--audit", args.audit), ("--by", args.by)):
            if value is not None:
                raise SlantError(f"{flag} goes with --from DIR (a dataset written by `slant analyze FILES --out DIR`)")
        return
    if args.files or args.refresh or args.select is not None:
        raise SlantError("--from DIR pushes a sample of an analysed corpus: drop the FILE arguments, --refresh and --select")
    if args.sample is None and args.audit is None:
        raise SlantError("--from DIR needs --sample N (review sample) and/or --audit N (random audit sample)")
    if args.strategy and args.sample is None:
        raise SlantError("--strategy goes with --sample N")
    if args.strategy and args.strategy not in _SAMPLE_STRATEGIES:
        raise SlantError(f"--strategy {args.strategy} with --from: use one of {', '.join(_SAMPLE_STRATEGIES)}")
    if args.strategy == "stratified" and not args.by:
        raise SlantError("--strategy stratified needs --by FIELD (e.g. --by outlet)")
    if args.by and args.audit is None and args.strategy != "stratified":
        raise SlantError("--by goes with --audit N or --strategy stratified")


def _check_push_args(args):
    _check_corpus_args(args)
    if args.from_dir:
        return
    if args.strategy and args.strategy not in _SELECT_STRATEGIES:
        raise SlantError(f"--strategy {args.strategy} with --select: use one of {', '.join(_SELECT_STRATEGIES)}")
    if args.refresh and args.files:
        raise SlantError("--refresh adds predictions to the project's existing tasks and reads no files; "
                         "drop the FILE arguments (or drop --refresh to push them)")
    if args.refresh and args.select is not None:
        raise SlantError("--refresh and --select do different things; run them as two commands")
    if not args.refresh and not args.files:
        raise SlantError("slant push: pass one or more FILEs to push, --from DIR to push a sample of an analysed corpus, "
                         "or --refresh to update existing tasks")
    if args.all_tasks and not args.refresh:
        raise SlantError("--all goes with --refresh (refresh annotated tasks too)")
    if args.strategy and args.select is None:
        raise SlantError("--strategy goes with --select N")
    if args.overlap_share is not None and args.overlap is None:
        raise SlantError("--overlap-share goes with --overlap K (K coders for that share of the tasks)")
    if args.overlap is not None and args.overlap < 1:
        raise SlantError(f"--overlap {args.overlap}: the number of coders per task must be 1 or more")
    if args.overlap_share is not None and not 0 < args.overlap_share <= 1:
        raise SlantError(f"--overlap-share {args.overlap_share}: a share of the tasks, in (0, 1], e.g. 0.2")


def _set_overlap(args, studio):
    from slant.studio.projects import resolve_project
    from slant.studio.team import set_overlap

    if args.overlap is None:
        return
    share = 1.0 if args.overlap_share is None else args.overlap_share
    set_overlap(studio, resolve_project(studio, args.project), overlap=args.overlap, share=share)
    print(f"overlap: {args.overlap} coders per task on {share:.0%} of the tasks"
          + (" (shown first; pre-annotations hidden for blind coding)" if args.overlap > 1 else ""))


def _push_loop(args, studio, model, taxonomy):
    from slant.loop.push import push_selected, refresh_predictions

    if args.refresh:
        result = refresh_predictions(studio, project=args.project, taxonomy=taxonomy, model=model,
                                     all_tasks=args.all_tasks, batch_size=args.batch_size)
        print(result.summary())
        return 0
    result, selection = push_selected(studio, args.files, project=args.project, taxonomy=taxonomy, model=model,
                                      n=args.select, strategy=args.strategy or "uncertainty",
                                      batch_size=args.batch_size, cache_dir=cache_dir())
    print(selection.summary())
    print(result.summary())
    return 0


def _cmd_push(args):
    from slant.loop.push import ConsoleProgress, check_inputs, count_documents, push
    from slant.studio.client import connect
    from slant.studio.projects import check_project_title
    from slant.taxonomy.core import load_taxonomy

    taxonomy = load_taxonomy(args.taxonomy)
    _check_push_args(args)
    if args.from_dir:
        return _push_corpus(args, taxonomy)
    if args.files:
        check_inputs(args.files)  # a missing file is reported before any server contact
        check_project_title(args.project)  # and a name Label Studio refuses, before any model loads
    url, key = studio_target(args)
    studio = connect(url, key, on_wait=_waiting)
    if args.refresh or args.select is not None:
        _push_loop(args, studio, pick_model(args, taxonomy), taxonomy)
    else:
        # Named now, read only if a sentence is new: re-pushing an article already in the
        # project loads no model (and imports no scikit-learn).
        model = pick_model(args, taxonomy, lazy=True)
        with ConsoleProgress(total=count_documents(args.files)) as progress:
            result = push(studio, args.files, project=args.project, taxonomy=taxonomy, model=model,
                          batch_size=args.batch_size, cache_dir=cache_dir(), progress=progress)
        print(result.summary())
    _set_overlap(args, studio)
    return 0


def _push_corpus(args, taxonomy):
    from slant.loop.corpus import open_corpus
    from slant.loop.push_corpus import check_by, push_corpus
    from slant.studio.client import connect
    from slant.studio.projects import check_project_title

    corpus_ready()
    dataset, _ = open_corpus(args.from_dir)  # a wrong directory or field is reported before any server contact
    check_by(args.by, dataset, args.from_dir)
    check_project_title(args.project)
    url, key = studio_target(args)
    studio = connect(url, key)
    result, samples = push_corpus(studio, args.from_dir, project=args.project, taxonomy=taxonomy, sample=args.sample,
                                  strategy=args.strategy or "uncertainty", audit=args.audit, by=args.by, seed=args.seed,
                                  batch_size=args.batch_size, cache_dir=cache_dir())
    for s in samples:
        print(s.summary())
    print(result.summary())
    return 0


def _cmd_demo(args):
    from slant.loop.demo import demo

    check_output_dir(args.data_dir, "--data-dir")
    demo(data_dir=args.data_dir, port=args.port, serve=not args.no_serve, cache_dir=cache_dir())
    return 0


def _add_push_loop_options(p):
    p.add_argument("--refresh", action="store_true",
                   help="add predictions of the model to existing tasks nobody annotated; adds no task")
    p.add_argument("--all", dest="all_tasks", action="store_true", help="with --refresh: annotated tasks too")
    p.add_argument("--select", type=int, metavar="N", help="push only the N most informative new sentences (streamed)")
    p.add_argument("--strategy", choices=sorted(set(_SELECT_STRATEGIES + _SAMPLE_STRATEGIES)),
                   help="with --select: uncertainty, margin, entropy or diverse; with --from --sample: uncertainty, "
                        "random or stratified (default uncertainty)")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="push a sample of the Parquet dataset of `slant analyze FILES --out DIR` (no re-analysis)")
    p.add_argument("--sample", type=int, metavar="N", help="with --from: N sentences for review, chosen by --strategy")
    p.add_argument("--audit", type=int, metavar="N",
                   help="with --from: a random audit sample of N sentences (for `slant measure`), in its own tab")
    p.add_argument("--by", metavar="FIELD", help="with --from: stratify --audit and --strategy stratified by this "
                                                 "document field (e.g. outlet)")
    p.add_argument("--seed", type=int, default=0, help="with --from: seed of the random choices (default 0; the same "
                                                       "seed picks the same sentences)")
    add_models_option(p)


def add_studio(sub):
    """`slant studio`, `slant push` and `slant demo`."""
    p = sub.add_parser("studio", help="run a local Label Studio (needs the studio extra)")
    p.add_argument("--port", type=int, default=8080, help="port to try first (default 8080; the next free one is used if busy)")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--data-dir", metavar="DIR", help="database, media and credentials (default ~/.local/share/slant/studio)")
    p.add_argument("--database", choices=["sqlite", "postgresql"],
                   help="sqlite (default) or postgresql: a PostgreSQL cluster of its own under --data-dir (docs/team.md)")
    p.add_argument("--database-url", metavar="postgresql://USER@HOST/DB",
                   help="use an existing PostgreSQL server; password from the URL, PGPASSWORD or ~/.pgpass")
    p.set_defaults(func=_cmd_studio)

    p = sub.add_parser("push", help="pre-label documents and send them to a Label Studio project")
    p.add_argument("files", nargs="*", metavar="INPUT",
                   help="files, directories or quoted globs of documents (.txt, .md, .html, .jsonl(.gz), .csv, .parquet); "
                        "none with --refresh or --from")
    p.add_argument("--project", required=True, metavar="NAME", help="project title (created when missing)")
    add_taxonomy_option(p)
    p.add_argument("--model", metavar="DIR|VERSION", help=MODEL_HELP)
    _add_push_loop_options(p)
    p.add_argument("--batch-size", type=int, default=1000, metavar="N", help="tasks per import request (default 1000)")
    p.add_argument("--overlap", type=int, metavar="K",
                   help="blind multiple coding: K coders per task (Label Studio's maximum_annotations; docs/team.md)")
    p.add_argument("--overlap-share", type=float, metavar="F",
                   help="with --overlap: the share of tasks coded K times, served first (default 1: all)")
    add_studio_target_options(p)
    p.set_defaults(func=_cmd_push)

    p = sub.add_parser("demo", help="start a local Label Studio and push the sample article into 'slant demo'")
    p.add_argument("--no-serve", action="store_true", help="exit after pushing (stops the server it started)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--data-dir", metavar="DIR", help="as for `slant studio`")
    p.set_defaults(func=_cmd_demo)

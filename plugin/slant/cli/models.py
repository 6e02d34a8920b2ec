"""`slant models list|show|promote|rollback|prune`: the model registry (docs/retraining.md)."""

from slant.cli.common import add_models_option, add_taxonomy_option, cache_dir, models_dir
from slant.errors import SlantError

__all__ = ["add_models"]


def _cmd_list(args):
    from slant.loop.train import Registry

    registry = Registry(models_dir(args))
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


def _cmd_show(args):
    import json

    from slant.loop.train import Registry

    print(json.dumps(Registry(models_dir(args)).card(args.version), indent=2, ensure_ascii=False))
    return 0


def _cmd_promote(args):
    from slant.loop.train import Registry, promote
    from slant.taxonomy.core import load_taxonomy

    result = promote(Registry(models_dir(args)), args.version, taxonomy=load_taxonomy(args.taxonomy), force=args.force,
                     tolerance=args.tolerance, cache_dir=cache_dir())
    if not result.promoted:
        raise SlantError("the promotion gate refused the candidate\n" + result.format())
    print(result.format())
    return 0


def _cmd_rollback(args):
    from slant.loop.train import Registry, rollback

    now = rollback(Registry(models_dir(args)))
    print(f"rolled back; current model: {now or 'the default seed model'}")
    print("next: `slant push --refresh --project NAME` puts its predictions on unannotated tasks")
    return 0


def _cmd_prune(args):
    from slant.loop.registry import KEEP_VERSIONS, Registry

    keep = KEEP_VERSIONS if args.keep is None else args.keep
    removed, freed = Registry(models_dir(args)).prune(keep)
    if not removed:
        print(f"nothing to prune: the promoted versions and the {keep} newest others are kept")
        return 0
    print(f"removed {len(removed)} versions ({freed / 1e6:.1f} MB): {', '.join(removed)}; "
          f"kept the promoted versions and the {keep} newest others")
    return 0


def add_models(sub):
    p = sub.add_parser("models", help="the model registry: list, show, promote, rollback, prune (docs/retraining.md)")
    msub = p.add_subparsers(dest="models_command", required=True)
    c = msub.add_parser("list", help="registered versions: dates, data sizes, macro F1; * marks the current one")
    c.add_argument("--format", choices=["table", "json"], default="table")
    c.set_defaults(func=_cmd_list)
    c = msub.add_parser("show", help="print a version's model card")
    c.add_argument("version", metavar="VERSION", help="a registered version or 'latest'")
    c.set_defaults(func=_cmd_show)
    c = msub.add_parser("promote", help="make a version current if the gate passes (held-out reviewed sentences)")
    c.add_argument("version", metavar="VERSION", help="a registered version or 'latest'")
    c.add_argument("--force", action="store_true", help="promote even if the gate refuses")
    c.add_argument("--tolerance", type=float, default=0.01, metavar="T", help="allowed macro-F1 drop (default 0.01)")
    add_taxonomy_option(c)
    c.set_defaults(func=_cmd_promote)
    c = msub.add_parser("rollback", help="undo the last promotion")
    c.set_defaults(func=_cmd_rollback)
    c = msub.add_parser("prune", help="remove old versions: keeps every promoted one and the newest --keep others "
                                      "(training does this too)")
    c.add_argument("--keep", type=int, metavar="N",
                   help="unpromoted versions to keep, newest first (default: as many as training keeps, 10)")
    c.set_defaults(func=_cmd_prune)
    for c in msub.choices.values():
        add_models_option(c)

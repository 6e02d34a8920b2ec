"""Build a variant of the default model from a seed directory, the way
`slant.model.seed.build_default_model` builds it (the same `train_model` call), without
the cache: for comparing seed sets or `SEED_PARAMS` settings on development data.

    python benchmarks/seed_variant.py labels/seed /tmp/variants/now
    python benchmarks/seed_variant.py /tmp/old-seed /tmp/variants/old-f1 --params '{}'
    slant evaluate --model /tmp/variants/now DATA.jsonl --format json

`--params` replaces `SEED_PARAMS` (JSON; '{}' = F1-best thresholds, no precision floor).
"""

import argparse
import json
import sys
from pathlib import Path

from slant.model.fit import train_model, training_set
from slant.model.persist import save_model
from slant.model.seed import SEED_PARAMS, seed_records
from slant.taxonomy.core import load_taxonomy


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seed_dir", help="directory of seed JSONL files (e.g. labels/seed or a copy of it)")
    ap.add_argument("out", help="directory to write the model to")
    ap.add_argument("--params", help="JSON estimator settings instead of SEED_PARAMS, e.g. '{\"min_precision\": 0.7}'")
    args = ap.parse_args(argv)
    if not Path(args.seed_dir).is_dir():
        raise SystemExit(f"error: {args.seed_dir}: not a directory; pass a folder of seed JSONL files")
    try:
        params = SEED_PARAMS if args.params is None else json.loads(args.params)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"error: --params is not valid JSON ({exc.msg}); e.g. --params '{{\"min_precision\": 0.7}}'") from None
    tax = load_taxonomy()
    records, files = seed_records(tax, directory=args.seed_dir)
    model = train_model(training_set([], taxonomy=tax, base=records), taxonomy=tax, cv=5, files=files,
                        base="seed", version_prefix="seed", params=params)
    model.card["model_version"] = "seed-variant"
    save_model(model, args.out)
    print(json.dumps({"sentences": len(records), "params": params, "out": args.out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

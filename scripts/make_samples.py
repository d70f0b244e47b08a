#!/usr/bin/env python3
"""Rebuild samples/: scanned PDFs of two corpus reports (one per layout), with their truth.

    python scripts/make_samples.py [--corpus ../shared/corpus/seeds]

The numbers are the corpus reports' own (their hand-checked truth); the page
images are drawn by training/render.py and degraded like a medium-quality scan.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extract.schema import Variant  # noqa: E402
from training.render import degrade, render_report, to_pdf  # noqa: E402

SAMPLES = {  # sample name -> (corpus report, style seed)
    "beilun-2022-scan": ("003_13dc86c238fc634d", 3),
    "yinzhou-2020-scan": ("004_63545407972970c8", 5),
}


def flatten(values: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in values.items():
        out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "seeds")
    args = ap.parse_args()
    for name, (report, seed) in SAMPLES.items():
        truth = json.loads((args.corpus / f"{report}.truth.json").read_text(encoding="utf-8"))
        values = flatten(truth["values"])
        variant = Variant(truth["layout"], "requests.other.other.total" in values)
        rng = random.Random(seed)
        scan = render_report(values, variant, truth["agency"], truth["year"], rng)
        pages = [degrade(p, "medium", rng) for p in scan.pages]
        (ROOT / "samples" / f"{name}.pdf").write_bytes(to_pdf(pages, scan.dpi))
        truth = {**truth, "source": f"{name}.pdf", "notes": f"Scan rendered from corpus report {report} by scripts/make_samples.py."}
        (ROOT / "samples" / f"{name}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"samples/{name}.pdf: {len(pages)} pages")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Per-page choice between extractors on the development set, from their predictions.

usage: devset_choose.py GROUND_TRUTH EXPANSE_DIR DOM_SMOOTHIE_DIR QUALITY_DIR [OTHER_DIR ...]
  the three folders are what `extract_devset` writes for the candidates `expanse`,
  `dom_smoothie` and `quality` (BENCHMARKS.md, "Extraction"); OTHER_DIRs are any other
  candidates' folders (e.g. the `forced-*` page-type profiles).
Prints F1 per page type for: expanse alone; dom_smoothie taken when rs-trafilatura's
`extraction_quality` is under a threshold; and an oracle that takes, for every page, whichever of
the two scores better against the ground truth (an upper bound for any such choice); with
OTHER_DIRs, also each of them alone and the oracle over expanse and all of them.
"""
import collections, importlib.util, json, os, sys

if len(sys.argv) < 5:
    sys.exit(__doc__)
gt_path, ours, ds, quality, *others = sys.argv[1:]
spec = importlib.util.spec_from_file_location(
    "score", os.path.join(os.path.dirname(os.path.abspath(gt_path)), "score.py"))
sc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sc)
gt = json.load(open(gt_path, encoding="utf-8"))


def read(d, k):
    f = os.path.join(d, k + ".txt")
    return open(f, encoding="utf-8", errors="replace").read() if os.path.exists(f) else ""


def f1(k, text):
    return sc.summary([sc.page(gt[k].get("articleBody", ""), text)])[0]


def evaluate(choose):
    rows = collections.defaultdict(list)
    for k, v in gt.items():
        r = sc.page(v.get("articleBody", ""), choose(k))
        rows[v.get("page_type")].append(r)
        rows["ALL"].append(r)
    return "  ".join(f"{t} {sc.summary(rs)[0]:.3f}" for t, rs in sorted(rows.items()))


q = {k: float(read(quality, k).split()[0] or 0) for k in gt}
print("expanse      ", evaluate(lambda k: read(ours, k)))
for t in (0.3, 0.4, 0.5, 0.6, 0.7):
    print(f"quality<{t}  ", evaluate(lambda k, t=t: read(ds, k) if q[k] < t else read(ours, k)))
print("oracle       ", evaluate(lambda k: max(read(ours, k), read(ds, k), key=lambda x: f1(k, x))))
if others:
    for d in others:
        print(f"{os.path.basename(d.rstrip('/')):13}", evaluate(lambda k, d=d: read(d, k)))
    every = [ours, *others]
    print("oracle, all  ", evaluate(lambda k: max((read(d, k) for d in every), key=lambda x: f1(k, x))))

"""Reference agreement statistics for `stratum qa agreement`'s parity test.

Reads an annotation CSV (item, annotator, label columns) and prints JSON with Cohen's kappa per
annotator pair (statsmodels.stats.inter_rater.cohens_kappa on the items both rated), Fleiss'
kappa (statsmodels fleiss_kappa, only when every item has the same number of ratings) and
Krippendorff's alpha, nominal (the krippendorff package; missing ratings allowed).
Usage: agreement_reference.py FILE.csv
"""
import csv
import itertools
import json
import sys

import krippendorff
import numpy as np
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa


def main(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    items = list(dict.fromkeys(r["item"] for r in rows))
    annotators = sorted({r["annotator"] for r in rows})
    labels = sorted({r["label"] for r in rows})
    item_index = {v: i for i, v in enumerate(items)}
    label_index = {v: i for i, v in enumerate(labels)}
    ratings = np.full((len(annotators), len(items)), np.nan)
    for r in rows:
        ratings[annotators.index(r["annotator"]), item_index[r["item"]]] = label_index[r["label"]]

    pairs = {}
    for a, b in itertools.combinations(range(len(annotators)), 2):
        both = ~np.isnan(ratings[a]) & ~np.isnan(ratings[b])
        if not both.any():
            continue
        table = np.zeros((len(labels), len(labels)))
        for x, y in zip(ratings[a][both].astype(int), ratings[b][both].astype(int)):
            table[x, y] += 1
        pairs[f"{annotators[a]}|{annotators[b]}"] = float(cohens_kappa(table).kappa)

    counts = np.zeros((len(items), len(labels)))
    for a in range(len(annotators)):
        for i in range(len(items)):
            if not np.isnan(ratings[a, i]):
                counts[i, int(ratings[a, i])] += 1
    totals = counts.sum(axis=1)
    fleiss = float(fleiss_kappa(counts, method="fleiss")) if np.all(totals == totals[0]) else None
    alpha = float(krippendorff.alpha(reliability_data=ratings, level_of_measurement="nominal"))
    print(json.dumps({"cohen": pairs, "fleiss": fleiss, "krippendorff_alpha": alpha}))


if __name__ == "__main__":
    main(sys.argv[1])

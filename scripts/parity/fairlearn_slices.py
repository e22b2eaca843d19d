"""Reference metrics by group for the evaluation-by-slice parity test (fairlearn MetricFrame).

Reads CSVs with columns y_true, y_pred, group and prints one JSON object per file (a JSON list):
per group the accuracy and the macro-averaged F1 (scikit-learn's accuracy_score and
f1_score(average="macro")), and for each metric MetricFrame's difference() and ratio() between
groups, group_min() and group_max().
Usage: fairlearn_slices.py FILE.csv...
"""
import csv
import json
import sys
import warnings
from functools import partial

from fairlearn.metrics import MetricFrame
from sklearn.metrics import accuracy_score, f1_score


def reference(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    y_true = [int(r["y_true"]) for r in rows]
    y_pred = [int(r["y_pred"]) for r in rows]
    group = [r["group"] for r in rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes absent from a group's truth: zero_division
        frame = MetricFrame(
            metrics={"accuracy": accuracy_score, "macro_f1": partial(f1_score, average="macro", zero_division=0)},
            y_true=y_true, y_pred=y_pred, sensitive_features=group)
    out = {"by_group": {}, "difference": {}, "ratio": {}, "group_min": {}, "group_max": {}}
    for name, values in frame.by_group.to_dict().items():
        out["by_group"][name] = {str(g): float(v) for g, v in values.items()}
    for name, v in frame.difference().items():
        out["difference"][name] = float(v)
    for name, v in frame.ratio().items():
        out["ratio"][name] = float(v)
    for name, v in frame.group_min().items():
        out["group_min"][name] = float(v)
    for name, v in frame.group_max().items():
        out["group_max"][name] = float(v)
    return out


if __name__ == "__main__":
    print(json.dumps([reference(path) for path in sys.argv[1:]]))

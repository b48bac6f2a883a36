#!/usr/bin/python3
"""Reference side of bench/calibration.ts: XGBoost 1.7 (defaults, hist, one thread) with and without
scikit-learn 1.2's CalibratedClassifierCV (sigmoid and isotonic, 5 inner folds), on the outer folds it is
given. Reads a JSON job on stdin (data path, folds) and prints every row's held-out probability per
variant, in row order, as JSON.
"""
import json
import sys

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.calibration import CalibratedClassifierCV

job = json.load(sys.stdin)
frame = pd.read_csv(job["data"])
X = frame[job["features"]].values.astype(np.float64)
y = frame["Diagnosis"].values.astype(int)


def model():
    return xgb.XGBClassifier(tree_method="hist", n_jobs=1)


out = {"none": np.zeros(len(y)), "sigmoid": np.zeros(len(y)), "isotonic": np.zeros(len(y))}
for fold in job["folds"]:
    train, test = np.array(fold["train"]), np.array(fold["test"])
    out["none"][test] = model().fit(X[train], y[train]).predict_proba(X[test])[:, 1]
    for method in ("sigmoid", "isotonic"):
        calibrated = CalibratedClassifierCV(model(), method=method, cv=5).fit(X[train], y[train])
        out[method][test] = calibrated.predict_proba(X[test])[:, 1]
print(json.dumps({"xgboost": xgb.__version__, **{k: v.tolist() for k, v in out.items()}}))

#!/usr/bin/python3
"""Reference side of bench/compare-references.ts: XGBoost 1.7 and scikit-learn 1.2 from Debian.

Reads a JSON job on stdin (data path, folds, params) and prints JSON results: cross-validated
accuracy/AUC on the given folds, single-thread fit time, and prediction latency.
"""
import json, sys, time
import numpy as np, pandas as pd
import xgboost as xgb
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

job = json.load(sys.stdin)
frame = pd.read_csv(job['data'])
X = frame.drop(columns=[c for c in ['PatientID', 'Diagnosis', 'DoctorInCharge'] if c in frame.columns]).values.astype(np.float64)
y = frame['Diagnosis'].values
folds = [(np.array(f['train']), np.array(f['test'])) for f in job['folds']]

def cv(fit_predict):
    acc, auc = [], []
    for train, test in folds:
        p = fit_predict(X[train], y[train], X[test])
        acc.append(accuracy_score(y[test], p >= 0.5)); auc.append(roc_auc_score(y[test], p))
    return {'accuracy': float(np.mean(acc)), 'roc_auc': float(np.mean(auc))}

def xgb_fit_predict(xtr, ytr, xte):
    return xgb.XGBClassifier(tree_method='hist', n_jobs=1, **job['gbdt_params']).fit(xtr, ytr).predict_proba(xte)[:, 1]

def linear_fit_predict(xtr, ytr, xte):
    return np.clip(LinearRegression().fit(xtr, ytr).predict(xte), 0, 1)

def logistic_fit_predict(xtr, ytr, xte):
    scaler = StandardScaler().fit(xtr)
    return LogisticRegression(C=1.0, max_iter=10000).fit(scaler.transform(xtr), ytr).predict_proba(scaler.transform(xte))[:, 1]

train, _ = folds[0]
dtrain = xgb.DMatrix(X[train], label=y[train], nthread=1)
params = {'tree_method': 'hist', 'objective': 'binary:logistic', 'nthread': 1}
fit_times = []
for _ in range(job['repeats']):
    started = time.perf_counter()
    booster = xgb.train(params, dtrain, num_boost_round=100)
    fit_times.append(time.perf_counter() - started)

rows = [X[i:i + 1] for i in range(1000)]
for row in rows[:200]:
    booster.inplace_predict(row)
single = []
for _ in range(job['repeats']):
    started = time.perf_counter()
    for row in rows:
        booster.inplace_predict(row)
    single.append((time.perf_counter() - started) / len(rows))
batch = []
for _ in range(job['repeats']):
    started = time.perf_counter()
    booster.inplace_predict(X)
    batch.append((time.perf_counter() - started) / len(X))

print(json.dumps({
    'versions': {'xgboost': xgb.__version__, 'sklearn': __import__('sklearn').__version__},
    'gbdt_cv': cv(xgb_fit_predict),
    'linear_cv': cv(linear_fit_predict),
    'logistic_cv': cv(logistic_fit_predict),
    'fit_seconds_median': float(np.median(fit_times)),
    'predict_one_seconds_median': float(np.median(single)),
    'predict_batch_seconds_per_row_median': float(np.median(batch)),
    'rows_fit': int(len(train)),
}))

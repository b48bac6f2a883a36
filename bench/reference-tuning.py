#!/usr/bin/python3
"""Reference side of bench/tuning-nested.ts: XGBoost 1.7 tuned by Optuna's TPE (Debian python3-optuna).

Reads a JSON job on stdin: data path, outer folds, a tuning seed per outer fold (default: its number),
trials, inner folds, the search space (Onset's format).
For each outer fold it tunes on the training part only (each trial cross-validated on stratified inner
folds, maximizing ROC AUC), refits the best parameters and scores the held-out part. Prints JSON.
"""
import json, sys, time
import numpy as np, pandas as pd
import optuna, xgboost as xgb
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

optuna.logging.set_verbosity(optuna.logging.WARNING)
job = json.load(sys.stdin)
frame = pd.read_csv(job['data'])
X = frame.drop(columns=[c for c in ['PatientID', 'Diagnosis', 'DoctorInCharge'] if c in frame.columns]).values
y = frame['Diagnosis'].values

def suggest(trial, name, spec):
    if spec['type'] == 'int':
        return trial.suggest_int(name, spec['low'], spec['high'], log=spec.get('log', False))
    return trial.suggest_float(name, spec['low'], spec['high'], log=spec.get('log', False))

results = []
for index, fold in enumerate(job['folds']):
    train, test = np.array(fold['train']), np.array(fold['test'])
    Xtr, ytr = X[train], y[train]
    seed = job.get('seeds', list(range(1, len(job['folds']) + 1)))[index]
    inner = list(StratifiedKFold(n_splits=job['inner_folds'], shuffle=True, random_state=seed).split(Xtr, ytr))

    def objective(trial):
        params = {name: suggest(trial, name, spec) for name, spec in job['space'].items()}
        scores = []
        for a, b in inner:
            model = xgb.XGBClassifier(tree_method='hist', n_jobs=1, **params).fit(Xtr[a], ytr[a])
            scores.append(roc_auc_score(ytr[b], model.predict_proba(Xtr[b])[:, 1]))
        return float(np.mean(scores))

    started = time.perf_counter()
    study = optuna.create_study(direction='maximize', sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=10))
    study.optimize(objective, n_trials=job['trials'])
    seconds = time.perf_counter() - started
    model = xgb.XGBClassifier(tree_method='hist', n_jobs=1, **study.best_params).fit(Xtr, ytr)
    p = model.predict_proba(X[test])[:, 1]
    results.append({'accuracy': float(accuracy_score(y[test], p >= 0.5)), 'roc_auc': float(roc_auc_score(y[test], p)), 'seconds': seconds})
    print(json.dumps({'fold': index + 1, **results[-1]}), file=sys.stderr, flush=True)

print(json.dumps({'versions': {'xgboost': xgb.__version__, 'optuna': optuna.__version__}, 'folds': results}))

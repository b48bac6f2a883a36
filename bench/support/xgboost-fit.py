"""XGBoost 1.7's in-process fit time on a Kaggle-shaped CSV: the reference for Onset's cold fit.

Prints the median milliseconds of REPEATS fits (100 rounds, depth 6, `hist`, one thread: XGBoost's
defaults, as `onset train --model gbdt`), after the data is in a DMatrix, as bench/reference.py measures
it. Run by bench/compare-references.ts between Onset's fresh processes, so that both are timed in the
same minute of a machine whose speed changes from minute to minute.

    python3 bench/support/xgboost-fit.py TRAIN.csv [REPEATS]
"""
import statistics
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb

frame = pd.read_csv(sys.argv[1]).drop(columns=['PatientID', 'DoctorInCharge'], errors='ignore')
y = frame.pop('Diagnosis').to_numpy()
matrix = xgb.DMatrix(frame.to_numpy(dtype=np.float64), label=y, nthread=1)
params = {'tree_method': 'hist', 'objective': 'binary:logistic', 'nthread': 1}
times = []
for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 5):
    started = time.perf_counter()
    xgb.train(params, matrix, num_boost_round=100)
    times.append((time.perf_counter() - started) * 1000)
print(f'{statistics.median(times):.3f}')

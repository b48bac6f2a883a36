"""Times XGBoost 1.7's inplace_predict (Debian's python3-xgboost) on a model exported by Onset, one
thread, for bench/predictors.ts: one row at a time over the first 1,000 rows, then the whole file as one
batch; the median of REPEATS each. Usage: python3 xgboost-predict.py MODEL.json ROWS.f64 COLS REPEATS
(ROWS.f64: the rows, row-major float64). Prints JSON: seconds per row, single and batch."""
import json
import sys
import time

import numpy as np
import xgboost as xgb

model_path, rows_path, cols, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
X = np.fromfile(rows_path, dtype=np.float64).reshape(-1, cols).astype(np.float32)
booster = xgb.Booster()
booster.load_model(model_path)
booster.set_param({"nthread": 1})
rows = [X[i:i + 1] for i in range(min(1000, len(X)))]
for row in rows[:200]:
    booster.inplace_predict(row)
single = []
for _ in range(repeats):
    started = time.perf_counter()
    for row in rows:
        booster.inplace_predict(row)
    single.append((time.perf_counter() - started) / len(rows))
batch = []
for _ in range(repeats):
    started = time.perf_counter()
    booster.inplace_predict(X)
    batch.append((time.perf_counter() - started) / len(X))
print(json.dumps({"version": xgb.__version__, "single": float(np.median(single)), "batch": float(np.median(batch))}))

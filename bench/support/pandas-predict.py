"""The batch-scoring reference for bench/batch-scoring.ts: pandas read_csv, XGBoost 1.7 inplace_predict
(one thread) and to_csv, as a script scoring a Kaggle-layout file would (Debian's python3-pandas and
python3-xgboost). Usage: python3 pandas-predict.py MODEL.json INPUT.csv OUTPUT.csv FEATURES_CSV_HEADER"""
import sys

import pandas as pd
import xgboost as xgb

model_path, input_path, output_path, features = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
booster = xgb.Booster()
booster.load_model(model_path)
booster.set_param({"nthread": 1})
frame = pd.read_csv(input_path)
probability = booster.inplace_predict(frame[features].to_numpy(dtype="float32"))
out = pd.DataFrame({"PatientID": frame["PatientID"], "probability": probability, "prediction": (probability >= 0.5).astype(int)})
out.to_csv(output_path, index=False)

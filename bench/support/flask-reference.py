"""The original service's shape, as the serving benchmark's second reference: a Flask app that scores
POST /predict records ({"data": {...}, "patient_id": ...}) with an XGBoost model (Debian's python3-flask
and python3-xgboost 1.7). Usage: python3 flask-reference.py MODEL.json FEATURES_CSV_HEADER
Prints "listening on http://127.0.0.1:PORT" once it serves."""
import logging
import socket
import sys

import numpy as np
import xgboost as xgb
from flask import Flask, jsonify, request

model_path, feature_list = sys.argv[1], sys.argv[2].split(",")
booster = xgb.Booster()
booster.load_model(model_path)
app = Flask(__name__)
logging.getLogger("werkzeug").setLevel(logging.ERROR)


@app.route("/predict", methods=["POST"])
def predict():
    record = request.get_json()
    row = np.array([[float(record["data"][name]) for name in feature_list]], dtype=np.float32)
    probability = float(booster.inplace_predict(row)[0])
    return jsonify({"patient_id": record.get("patient_id"), "probability": probability, "diagnosis": int(probability >= 0.5)})


with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
print(f"listening on http://127.0.0.1:{port}", flush=True)
app.run(host="127.0.0.1", port=port, threaded=True)

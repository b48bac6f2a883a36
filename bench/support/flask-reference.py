"""The original service's shape, as the serving benchmark's reference: a Flask app that scores POST
/predict records ({"data": {...}, "patient_id": ...}) with an XGBoost model (Debian's python3-flask and
python3-xgboost 1.7), under gunicorn with WORKERS sync workers as the original deploys it (Debian's
gunicorn), or Werkzeug's threaded server without WORKERS.
Usage: python3 flask-reference.py MODEL.json FEATURES_CSV_HEADER [WORKERS]
Prints "listening on http://127.0.0.1:PORT" once it serves."""
import logging
import socket
import sys

import numpy as np
import xgboost as xgb
from flask import Flask, jsonify, request

model_path, feature_list = sys.argv[1], sys.argv[2].split(",")
booster = None


def load_booster():
    """Loads the model in the process that serves: XGBoost's OpenMP threads do not survive a fork."""
    global booster
    booster = xgb.Booster()
    booster.load_model(model_path)
    # One thread per request: OpenMP's threads, spinning between one-row calls, cost each request ~8 ms
    # of CPU on two cores shared by two workers.
    booster.set_param({"nthread": 1})


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
if len(sys.argv) > 3:
    from gunicorn.app.base import BaseApplication

    class Gunicorn(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"127.0.0.1:{port}")
            self.cfg.set("workers", int(sys.argv[3]))
            self.cfg.set("loglevel", "warning")
            self.cfg.set("when_ready", lambda server: print(f"listening on http://127.0.0.1:{port}", flush=True))

        def load(self):
            # Called in each worker, after the fork (the app is not preloaded, as by default).
            load_booster()
            return app

    Gunicorn().run()
else:
    load_booster()
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True)

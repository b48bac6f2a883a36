#!/usr/bin/env python3
"""What a data scientist does with MLflow 2.12's Python client, checked against a tracking server.

Talks HTTP only, through MLflow's own client (from MLflow's source, see docs/development.md):

    MLFLOW_TRACKING_URI=http://127.0.0.1:9696 [MLFLOW_TRACKING_TOKEN=...] \\
        PYTHONPATH=/path/to/mlflow-2.12 /usr/bin/python3 scripts/mlflow/client-checks.py

Options: --only GROUP[,GROUP...] runs some groups (each group is self-contained: it makes its own
experiment and registered models), --list prints the checks, --suffix S names what the checks create
(default: a random suffix, so the script can run again against the same server).

Each check prints PASS or FAIL with the reason, then a total line; the exit status is 1 when any fails.
The same script passes against MLflow's own server (`mlflow server`), which is how its expectations are
checked.
"""

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
import traceback
import uuid

# A local server: fail fast rather than retry a 5xx for a minute, and never wait minutes for a model
# version to become READY.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

try:
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag, ViewType
    from mlflow.exceptions import MlflowException
except ImportError as missing:  # pragma: no cover - what to install is the useful answer
    sys.exit(
        f"cannot import {missing.name}: run with /usr/bin/python3, PYTHONPATH=<MLflow 2.12 source> and "
        "Debian's python3-* packages (see docs/development.md)"
    )

GROUPS = ["experiments", "runs", "search", "artifacts", "datasets", "models", "registry", "errors"]
CHECKS = []  # (group, name, function, needs)


def check(group, name, needs=()):
    """Registers a check; `needs` names earlier checks of the group it builds on."""

    def register(function):
        CHECKS.append((group, name, function, tuple(needs)))
        return function

    return register


class Context(dict):
    """What checks hand on to later checks, by name."""

    def need(self, key):
        if key not in self:
            raise Blocked(key)
        return self[key]


class Blocked(Exception):
    """A check could not run because an earlier one did not produce what it needs."""


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_equal(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: got {actual!r}, expected {expected!r}")


def expect_error(function, error_code):
    """Runs `function` and expects an MlflowException with `error_code`; returns the exception."""
    try:
        function()
    except MlflowException as error:
        expect_equal(error.error_code, error_code, f"error_code (message: {str(error)[:200]})")
        return error
    raise AssertionError(f"no error raised, expected {error_code}")


def sha256_of(path):
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def scheme_of(uri):
    return uri.split(":", 1)[0] if ":" in uri else ""


client = None
ctx = Context()
SUFFIX = ""


def name(what):
    return f"checks-{what}-{SUFFIX}"


def classification_data():
    rng = np.random.RandomState(0)
    features = pd.DataFrame(rng.normal(size=(120, 4)), columns=["age", "bmi", "tremor", "rigidity"])
    labels = (features["tremor"] + 0.5 * features["rigidity"] > 0).astype(int)
    return features, labels


# --------------------------------------------------------------------------------------------------
# Experiments


@check("experiments", "create_experiment returns an id")
def _():
    experiment_id = client.create_experiment(
        name("exp"), tags={"team": "neuro", "purpose": "checks"}
    )
    expect(isinstance(experiment_id, str) and experiment_id != "", f"id {experiment_id!r}")
    ctx["exp_id"] = experiment_id


@check("experiments", "get_experiment by id", needs=["create_experiment returns an id"])
def _():
    experiment = client.get_experiment(ctx.need("exp_id"))
    expect_equal(experiment.name, name("exp"), "name")
    expect_equal(experiment.lifecycle_stage, "active", "lifecycle_stage")
    expect_equal(experiment.tags.get("team"), "neuro", "tag team")
    expect(experiment.creation_time and experiment.creation_time > 1e12, "creation_time in ms")
    expect(experiment.last_update_time >= experiment.creation_time, "last_update_time")


@check("experiments", "get_experiment_by_name")
def _():
    experiment = client.get_experiment_by_name(name("exp"))
    expect(experiment is not None, "not found")
    expect_equal(experiment.experiment_id, ctx.need("exp_id"), "experiment_id")


@check("experiments", "get_experiment_by_name of a missing name is None")
def _():
    expect(client.get_experiment_by_name(name("no-such-exp")) is None, "found an experiment")


@check("experiments", "artifact location is served by the artifact proxy (mlflow-artifacts:)")
def _():
    location = client.get_experiment(ctx.need("exp_id")).artifact_location
    expect_equal(scheme_of(location), "mlflow-artifacts", f"scheme of {location!r}")


@check("experiments", "set_experiment_tag adds and overwrites")
def _():
    experiment_id = ctx.need("exp_id")
    client.set_experiment_tag(experiment_id, "stage", "draft")
    client.set_experiment_tag(experiment_id, "stage", "final")
    expect_equal(client.get_experiment(experiment_id).tags.get("stage"), "final", "tag stage")


@check("experiments", "mlflow.set_experiment_tags (fluent)")
def _():
    mlflow.set_experiment(experiment_id=ctx.need("exp_id"))
    mlflow.set_experiment_tags({"a": "1", "b": "2"})
    tags = client.get_experiment(ctx["exp_id"]).tags
    expect_equal((tags.get("a"), tags.get("b")), ("1", "2"), "tags a, b")


@check("experiments", "rename_experiment")
def _():
    experiment_id = ctx.need("exp_id")
    client.rename_experiment(experiment_id, name("exp-renamed"))
    expect_equal(client.get_experiment(experiment_id).name, name("exp-renamed"), "name")
    expect(client.get_experiment_by_name(name("exp")) is None, "old name still found")
    client.rename_experiment(experiment_id, name("exp"))


@check("experiments", "delete_experiment marks it deleted")
def _():
    experiment_id = client.create_experiment(name("exp-deleted"))
    ctx["deleted_exp_id"] = experiment_id
    client.delete_experiment(experiment_id)
    expect_equal(client.get_experiment(experiment_id).lifecycle_stage, "deleted", "lifecycle_stage")


@check("experiments", "search_experiments hides deleted ones unless asked")
def _():
    deleted = ctx.need("deleted_exp_id")
    active = [e.experiment_id for e in client.search_experiments(filter_string=f"name LIKE '%{SUFFIX}'")]
    expect(deleted not in active, "deleted experiment in the ACTIVE_ONLY search")
    only_deleted = client.search_experiments(
        view_type=ViewType.DELETED_ONLY, filter_string=f"name LIKE '%{SUFFIX}'"
    )
    expect_equal([e.experiment_id for e in only_deleted], [deleted], "DELETED_ONLY")
    every = client.search_experiments(view_type=ViewType.ALL, filter_string=f"name LIKE '%{SUFFIX}'")
    expect(deleted in [e.experiment_id for e in every], "deleted experiment missing from ALL")


@check("experiments", "restore_experiment")
def _():
    experiment_id = ctx.need("deleted_exp_id")
    client.restore_experiment(experiment_id)
    expect_equal(client.get_experiment(experiment_id).lifecycle_stage, "active", "lifecycle_stage")


@check("experiments", "search_experiments by name LIKE, ordered by name")
def _():
    for what in ("exp-s-b", "exp-s-a", "exp-s-c"):
        client.create_experiment(name(what))
    found = client.search_experiments(
        filter_string=f"name LIKE 'checks-exp-s-%-{SUFFIX}'", order_by=["name ASC"]
    )
    expect_equal([e.name for e in found], [name("exp-s-a"), name("exp-s-b"), name("exp-s-c")], "names")


@check("experiments", "search_experiments by tag")
def _():
    found = client.search_experiments(filter_string="tags.team = 'neuro'")
    expect(ctx.need("exp_id") in [e.experiment_id for e in found], "tagged experiment not found")


@check("experiments", "search_experiments pages with max_results and page_token")
def _():
    seen, token, pages = [], None, 0
    while True:
        page = client.search_experiments(
            max_results=2, page_token=token, filter_string=f"name LIKE '%-{SUFFIX}'"
        )
        seen += [e.experiment_id for e in page]
        pages += 1
        token = page.token
        if not token:
            break
        expect(pages < 20, "more than 20 pages")
    expect(len(seen) >= 5 and len(set(seen)) == len(seen), f"ids over {pages} pages: {seen}")
    expect(pages >= 3, f"{pages} pages of 2 for {len(seen)} experiments")


@check("experiments", "mlflow.set_experiment creates a missing experiment and makes it active")
def _():
    experiment = mlflow.set_experiment(name("exp-fluent"))
    expect_equal(experiment.name, name("exp-fluent"), "name")
    with mlflow.start_run() as run:
        pass
    expect_equal(run.info.experiment_id, experiment.experiment_id, "run's experiment_id")


# --------------------------------------------------------------------------------------------------
# Runs


@check("runs", "create_run with tags and a name")
def _():
    ctx["runs_exp"] = client.create_experiment(name("runs"))
    run = client.create_run(ctx["runs_exp"], tags={"owner": "checks"}, run_name="first-run")
    expect_equal(run.info.status, "RUNNING", "status")
    expect_equal(run.info.run_name, "first-run", "run_name")
    expect_equal(run.data.tags.get("owner"), "checks", "tag owner")
    expect_equal(run.data.tags.get("mlflow.runName"), "first-run", "tag mlflow.runName")
    expect_equal(run.info.run_id, run.info.run_uuid, "run_uuid")
    ctx["run_id"] = run.info.run_id


@check("runs", "get_run")
def _():
    run = client.get_run(ctx.need("run_id"))
    expect_equal(run.info.experiment_id, ctx["runs_exp"], "experiment_id")
    expect_equal(run.info.lifecycle_stage, "active", "lifecycle_stage")
    expect(run.info.start_time > 1e12, f"start_time {run.info.start_time}")
    expect(run.info.artifact_uri.endswith(f"{run.info.run_id}/artifacts"), run.info.artifact_uri)


@check("runs", "log_param and get_run params")
def _():
    run_id = ctx.need("run_id")
    client.log_param(run_id, "learning_rate", 0.1)
    client.log_param(run_id, "max_depth", 4)
    client.log_param(run_id, "max_depth", 4)  # the same value again is fine
    params = client.get_run(run_id).data.params
    expect_equal(params, {"learning_rate": "0.1", "max_depth": "4"}, "params")


@check("runs", "a long param value (6000 characters)")
def _():
    run_id = ctx.need("run_id")
    client.log_param(run_id, "long", "x" * 6000)
    expect_equal(len(client.get_run(run_id).data.params["long"]), 6000, "length")


@check("runs", "log_metric with steps and get_metric_history")
def _():
    run_id = ctx.need("run_id")
    now = int(time.time() * 1000)
    for step, value in enumerate([0.9, 0.7, 0.5, 0.4]):
        client.log_metric(run_id, "loss", value, timestamp=now + step, step=step)
    history = client.get_metric_history(run_id, "loss")
    expect_equal([(m.step, m.value) for m in history], [(0, 0.9), (1, 0.7), (2, 0.5), (3, 0.4)], "history")
    expect_equal([m.timestamp for m in history], [now, now + 1, now + 2, now + 3], "timestamps")
    expect_equal(client.get_run(run_id).data.metrics["loss"], 0.4, "latest loss")


@check("runs", "the latest metric is the one with the highest step")
def _():
    run_id = ctx.need("run_id")
    now = int(time.time() * 1000)
    client.log_metric(run_id, "auc", 0.8, timestamp=now, step=5)
    client.log_metric(run_id, "auc", 0.6, timestamp=now + 10, step=2)
    expect_equal(client.get_run(run_id).data.metrics["auc"], 0.8, "latest auc")


@check("runs", "metric values NaN and infinity")
def _():
    run_id = ctx.need("run_id")
    client.log_metric(run_id, "nan_metric", float("nan"))
    client.log_metric(run_id, "inf_metric", float("inf"))
    client.log_metric(run_id, "neg_inf_metric", float("-inf"))
    metrics = client.get_run(run_id).data.metrics
    expect(math.isnan(metrics["nan_metric"]), f"nan_metric {metrics['nan_metric']}")
    expect(metrics["inf_metric"] > 1e300, f"inf_metric {metrics['inf_metric']}")
    expect(metrics["neg_inf_metric"] < -1e300, f"neg_inf_metric {metrics['neg_inf_metric']}")


@check("runs", "log_batch with metrics, params and tags")
def _():
    run_id = ctx.need("run_id")
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric("batch_m", float(i), now + i, i) for i in range(10)],
        params=[Param("batch_p", "7")],
        tags=[RunTag("batch_t", "yes")],
    )
    run = client.get_run(run_id)
    expect_equal(run.data.metrics["batch_m"], 9.0, "latest batch_m")
    expect_equal(run.data.params["batch_p"], "7", "batch_p")
    expect_equal(run.data.tags["batch_t"], "yes", "batch_t")
    expect_equal(len(client.get_metric_history(run_id, "batch_m")), 10, "history length")


@check("runs", "log_batch with 1500 metrics (the client splits it)")
def _():
    run_id = ctx.need("run_id")
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric("many", float(i), now, i) for i in range(1500)])
    expect_equal(len(client.get_metric_history(run_id, "many")), 1500, "history length")


@check("runs", "set_tag and delete_tag")
def _():
    run_id = ctx.need("run_id")
    client.set_tag(run_id, "temporary", "1")
    expect_equal(client.get_run(run_id).data.tags.get("temporary"), "1", "tag")
    client.delete_tag(run_id, "temporary")
    expect("temporary" not in client.get_run(run_id).data.tags, "tag still there")


@check("runs", "update_run renames a run")
def _():
    run_id = ctx.need("run_id")
    client.update_run(run_id, name="renamed-run")
    run = client.get_run(run_id)
    expect_equal(run.info.run_name, "renamed-run", "run_name")
    expect_equal(run.data.tags.get("mlflow.runName"), "renamed-run", "tag mlflow.runName")


@check("runs", "set_terminated FAILED with an end time")
def _():
    run_id = ctx.need("run_id")
    end = int(time.time() * 1000)
    client.set_terminated(run_id, status="FAILED", end_time=end)
    info = client.get_run(run_id).info
    expect_equal((info.status, info.end_time), ("FAILED", end), "status, end_time")


@check("runs", "fluent start_run logs and finishes the run")
def _():
    mlflow.set_experiment(experiment_id=ctx.need("runs_exp"))
    with mlflow.start_run(run_name="fluent") as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"beta": 2, "gamma": "x"})
        mlflow.log_metric("score", 1.5, step=3)
        mlflow.log_metrics({"m1": 1.0, "m2": 2.0})
        mlflow.set_tag("kind", "fluent")
        mlflow.set_tags({"k1": "v1", "k2": "v2"})
    fetched = client.get_run(run.info.run_id)
    expect_equal(fetched.info.status, "FINISHED", "status")
    expect(fetched.info.end_time >= fetched.info.start_time, "end_time")
    expect_equal(fetched.data.params, {"alpha": "0.5", "beta": "2", "gamma": "x"}, "params")
    expect_equal(fetched.data.metrics, {"score": 1.5, "m1": 1.0, "m2": 2.0}, "metrics")
    expect_equal(
        {k: fetched.data.tags.get(k) for k in ("kind", "k1", "k2")},
        {"kind": "fluent", "k1": "v1", "k2": "v2"},
        "tags",
    )
    ctx["fluent_run_id"] = run.info.run_id


@check("runs", "fluent runs carry the system tags (user, source)")
def _():
    tags = client.get_run(ctx.need("fluent_run_id")).data.tags
    for key in ("mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.runName"):
        expect(key in tags, f"tag {key} missing from {sorted(tags)}")


@check("runs", "a run that raises ends FAILED")
def _():
    mlflow.set_experiment(experiment_id=ctx.need("runs_exp"))
    try:
        with mlflow.start_run() as run:
            raise ValueError("deliberate")
    except ValueError:
        pass
    expect_equal(client.get_run(run.info.run_id).info.status, "FAILED", "status")


@check("runs", "nested runs and get_parent_run")
def _():
    mlflow.set_experiment(experiment_id=ctx.need("runs_exp"))
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("x", 1)
    expect_equal(
        client.get_run(child.info.run_id).data.tags.get("mlflow.parentRunId"),
        parent.info.run_id,
        "mlflow.parentRunId",
    )
    expect_equal(client.get_parent_run(child.info.run_id).info.run_id, parent.info.run_id, "parent")


@check("runs", "mlflow.last_active_run")
def _():
    mlflow.set_experiment(experiment_id=ctx.need("runs_exp"))
    with mlflow.start_run() as run:
        mlflow.log_metric("last", 3.0)
    last = mlflow.last_active_run()
    expect_equal(last.info.run_id, run.info.run_id, "run_id")
    expect_equal(last.data.metrics.get("last"), 3.0, "metric")


@check("runs", "resume a finished run with start_run(run_id=...)")
def _():
    run_id = ctx.need("fluent_run_id")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metric("resumed", 1.0)
    run = client.get_run(run_id)
    expect_equal(run.data.metrics.get("resumed"), 1.0, "metric")
    expect_equal(run.info.status, "FINISHED", "status")


@check("runs", "delete_run and restore_run")
def _():
    run = client.create_run(ctx.need("runs_exp"))
    client.delete_run(run.info.run_id)
    expect_equal(client.get_run(run.info.run_id).info.lifecycle_stage, "deleted", "after delete")
    client.restore_run(run.info.run_id)
    expect_equal(client.get_run(run.info.run_id).info.lifecycle_stage, "active", "after restore")


@check("runs", "get_metric_history of a metric never logged is empty")
def _():
    expect_equal(client.get_metric_history(ctx.need("run_id"), "never_logged"), [], "history")


# --------------------------------------------------------------------------------------------------
# Search


def search_fixture():
    """Six finished runs with params, metrics and tags to search over."""
    if "search_exp" in ctx:
        return ctx["search_exp"], ctx["search_runs"]
    experiment_id = client.create_experiment(name("search"))
    runs = []
    for i in range(6):
        run = client.create_run(
            experiment_id, run_name=f"s{i}", tags={"family": "gbdt" if i % 2 else "linear"}
        )
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("roc_auc", 0.5 + i / 20, int(time.time() * 1000), 0)],
            params=[Param("depth", str(i)), Param("solver", "lbfgs" if i < 3 else "Adam")],
        )
        client.set_terminated(run.info.run_id, "FINISHED" if i != 5 else "KILLED")
        runs.append(run.info.run_id)
    ctx["search_exp"], ctx["search_runs"] = experiment_id, runs
    return experiment_id, runs


def run_ids(experiment_id, **options):
    return [r.info.run_id for r in client.search_runs([experiment_id], **options)]


@check("search", "search_runs returns every run of the experiment")
def _():
    experiment_id, runs = search_fixture()
    expect_equal(sorted(run_ids(experiment_id)), sorted(runs), "run ids")


@check("search", "default order is start_time DESC")
def _():
    experiment_id, runs = search_fixture()
    found = client.search_runs([experiment_id])
    starts = [r.info.start_time for r in found]
    expect_equal(starts, sorted(starts, reverse=True), "start times")


@check("search", "filter on a metric (metrics.roc_auc > 0.7)")
def _():
    experiment_id, runs = search_fixture()
    expect_equal(
        sorted(run_ids(experiment_id, filter_string="metrics.roc_auc > 0.7")), sorted(runs[5:]), "runs"
    )


@check("search", "filter on a metric with <= and AND")
def _():
    experiment_id, runs = search_fixture()
    found = run_ids(experiment_id, filter_string="metrics.roc_auc >= 0.6 and metrics.roc_auc <= 0.65")
    expect_equal(sorted(found), sorted(runs[2:4]), "runs")


@check("search", "filter on a param (params.solver = 'Adam')")
def _():
    experiment_id, runs = search_fixture()
    expect_equal(sorted(run_ids(experiment_id, filter_string="params.solver = 'Adam'")), sorted(runs[3:]), "runs")


@check("search", "filter on a tag (tags.family != 'gbdt')")
def _():
    experiment_id, runs = search_fixture()
    found = run_ids(experiment_id, filter_string="tags.family != 'gbdt'")
    expect_equal(sorted(found), sorted(runs[0::2]), "runs")


@check("search", "filter on status (attributes.status = 'KILLED')")
def _():
    experiment_id, runs = search_fixture()
    expect_equal(run_ids(experiment_id, filter_string="attributes.status = 'KILLED'"), [runs[5]], "runs")


@check("search", "filter on run_name")
def _():
    experiment_id, runs = search_fixture()
    expect_equal(run_ids(experiment_id, filter_string="attributes.run_name = 's2'"), [runs[2]], "runs")


@check("search", "filter with LIKE and ILIKE")
def _():
    experiment_id, runs = search_fixture()
    expect_equal(sorted(run_ids(experiment_id, filter_string="params.solver LIKE 'lb%'")), sorted(runs[:3]), "LIKE")
    expect_equal(sorted(run_ids(experiment_id, filter_string="params.solver ILIKE 'adam'")), sorted(runs[3:]), "ILIKE")


@check("search", "filter with run_id IN (...)")
def _():
    experiment_id, runs = search_fixture()
    found = run_ids(experiment_id, filter_string=f"attributes.run_id IN ('{runs[1]}', '{runs[4]}')")
    expect_equal(sorted(found), sorted([runs[1], runs[4]]), "runs")


@check("search", "order_by a metric DESC")
def _():
    experiment_id, runs = search_fixture()
    expect_equal(run_ids(experiment_id, order_by=["metrics.roc_auc DESC"]), list(reversed(runs)), "order")


@check("search", "order_by a param and then start_time")
def _():
    experiment_id, runs = search_fixture()
    found = run_ids(experiment_id, order_by=["params.solver ASC", "attributes.start_time ASC"])
    expect_equal(found, runs[3:] + runs[:3], "order")


@check("search", "pages with max_results and page_token")
def _():
    experiment_id, runs = search_fixture()
    page1 = client.search_runs([experiment_id], max_results=4, order_by=["metrics.roc_auc ASC"])
    expect(page1.token, "no token after a full page")
    page2 = client.search_runs(
        [experiment_id], max_results=4, order_by=["metrics.roc_auc ASC"], page_token=page1.token
    )
    expect_equal([r.info.run_id for r in page1] + [r.info.run_id for r in page2], runs, "pages")
    expect(not page2.token, f"token after the last page: {page2.token!r}")


@check("search", "run_view_type DELETED_ONLY and ALL")
def _():
    experiment_id, runs = search_fixture()
    client.delete_run(runs[0])
    try:
        expect(runs[0] not in run_ids(experiment_id), "deleted run in ACTIVE_ONLY")
        expect_equal(run_ids(experiment_id, run_view_type=ViewType.DELETED_ONLY), [runs[0]], "DELETED_ONLY")
        expect_equal(len(run_ids(experiment_id, run_view_type=ViewType.ALL)), 6, "ALL count")
    finally:
        client.restore_run(runs[0])


@check("search", "mlflow.search_runs returns a pandas DataFrame")
def _():
    experiment_id, runs = search_fixture()
    frame = mlflow.search_runs([experiment_id], order_by=["metrics.roc_auc ASC"])
    expect(isinstance(frame, pd.DataFrame), f"type {type(frame)}")
    expect_equal(list(frame["run_id"]), runs, "run_id column")
    for column in ("metrics.roc_auc", "params.depth", "tags.family", "status", "start_time"):
        expect(column in frame.columns, f"column {column} missing")
    expect_equal(list(frame["params.depth"]), [str(i) for i in range(6)], "params.depth")


@check("search", "mlflow.search_runs by experiment name with a filter")
def _():
    search_fixture()
    frame = mlflow.search_runs(experiment_names=[name("search")], filter_string="tags.family = 'gbdt'")
    expect_equal(len(frame), 3, "rows")


@check("search", "mlflow.search_runs output_format='list'")
def _():
    experiment_id, runs = search_fixture()
    found = mlflow.search_runs([experiment_id], output_format="list", max_results=2)
    expect_equal(len(found), 2, "runs")
    expect(all(r.info.run_id in runs for r in found), "unknown run")


@check("search", "search over several experiments")
def _():
    experiment_id, runs = search_fixture()
    other = client.create_experiment(name("search-other"))
    other_run = client.create_run(other).info.run_id
    found = [r.info.run_id for r in client.search_runs([experiment_id, other])]
    expect_equal(sorted(found), sorted(runs + [other_run]), "runs")


# --------------------------------------------------------------------------------------------------
# Artifacts


def artifact_run():
    if "artifact_run" not in ctx:
        experiment_id = client.create_experiment(name("artifacts"))
        ctx["artifact_run"] = client.create_run(experiment_id).info.run_id
    return ctx["artifact_run"]


def write(directory, relative, content):
    path = os.path.join(directory, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(content, bytes) else "w") as file:
        file.write(content)
    return path


@check("artifacts", "the run's artifact URI is served by the artifact proxy (mlflow-artifacts:)")
def _():
    uri = client.get_run(artifact_run()).info.artifact_uri
    expect_equal(scheme_of(uri), "mlflow-artifacts", f"scheme of {uri!r}")


@check("artifacts", "log_artifact and list_artifacts")
def _():
    run_id = artifact_run()
    with tempfile.TemporaryDirectory() as directory:
        client.log_artifact(run_id, write(directory, "notes.txt", "hello artifacts\n"))
    files = {f.path: f for f in client.list_artifacts(run_id)}
    expect("notes.txt" in files, f"listing {sorted(files)}")
    expect_equal((files["notes.txt"].is_dir, files["notes.txt"].file_size), (False, 16), "is_dir, size")


@check("artifacts", "log_artifact under an artifact_path")
def _():
    run_id = artifact_run()
    with tempfile.TemporaryDirectory() as directory:
        client.log_artifact(run_id, write(directory, "cfg.json", '{"a": 1}'), artifact_path="config/v1")
    expect_equal([f.path for f in client.list_artifacts(run_id, "config/v1")], ["config/v1/cfg.json"], "listing")
    top = {f.path: f.is_dir for f in client.list_artifacts(run_id)}
    expect_equal(top.get("config"), True, "config listed as a directory")


@check("artifacts", "log_artifacts of a nested directory")
def _():
    run_id = artifact_run()
    with tempfile.TemporaryDirectory() as directory:
        write(directory, "report/summary.md", "# Summary\n")
        write(directory, "report/plots/roc.csv", "fpr,tpr\n0,0\n1,1\n")
        write(directory, "report/plots/pr.csv", "p,r\n1,0\n")
        client.log_artifacts(run_id, os.path.join(directory, "report"), artifact_path="report")
    listing = sorted(f.path for f in client.list_artifacts(run_id, "report/plots"))
    expect_equal(listing, ["report/plots/pr.csv", "report/plots/roc.csv"], "listing")


@check("artifacts", "download_artifacts of one file")
def _():
    run_id = artifact_run()
    with tempfile.TemporaryDirectory() as directory:
        path = client.download_artifacts(run_id, "notes.txt", directory)
        with open(path) as file:
            expect_equal(file.read(), "hello artifacts\n", "content")


@check("artifacts", "download_artifacts of a directory")
def _():
    run_id = artifact_run()
    with tempfile.TemporaryDirectory() as directory:
        path = client.download_artifacts(run_id, "report", directory)
        found = sorted(
            os.path.relpath(os.path.join(root, f), path) for root, _, files in os.walk(path) for f in files
        )
    expect_equal(found, ["plots/pr.csv", "plots/roc.csv", "summary.md"], "files")


@check("artifacts", "mlflow.artifacts.download_artifacts by run_id and artifact_path")
def _():
    run_id = artifact_run()
    with tempfile.TemporaryDirectory() as directory:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="config/v1/cfg.json", dst_path=directory
        )
        with open(path) as file:
            expect_equal(json.load(file), {"a": 1}, "content")


@check("artifacts", "a binary file round-trips byte for byte")
def _():
    run_id = artifact_run()
    content = np.random.RandomState(1).bytes(300_000)
    with tempfile.TemporaryDirectory() as directory:
        client.log_artifact(run_id, write(directory, "blob.bin", content), artifact_path="bin")
        os.makedirs(os.path.join(directory, "out"))
        path = client.download_artifacts(run_id, "bin/blob.bin", os.path.join(directory, "out"))
        expect_equal(sha256_of(path), hashlib.sha256(content).hexdigest(), "sha256")


@check("artifacts", "log_text and load_text")
def _():
    run_id = artifact_run()
    mlflow.set_experiment(experiment_id=client.get_run(run_id).info.experiment_id)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_text("line one\nline two\n", "texts/lines.txt")
    loaded = mlflow.artifacts.load_text(f"runs:/{run_id}/texts/lines.txt")
    expect_equal(loaded, "line one\nline two\n", "text")


@check("artifacts", "log_dict (JSON and YAML) and load_dict")
def _():
    run_id = artifact_run()
    data = {"features": ["age", "bmi"], "threshold": 0.5, "nested": {"k": [1, 2]}}
    client.log_dict(run_id, data, "dicts/config.json")
    client.log_dict(run_id, data, "dicts/config.yaml")
    expect_equal(mlflow.artifacts.load_dict(f"runs:/{run_id}/dicts/config.json"), data, "JSON")
    with tempfile.TemporaryDirectory() as directory:
        path = client.download_artifacts(run_id, "dicts/config.yaml", directory)
        with open(path) as file:
            expect("threshold: 0.5" in file.read(), "YAML content")


@check("artifacts", "log_table and load_table")
def _():
    run_id = artifact_run()
    table = {"patient": ["a", "b", "c"], "score": [0.1, 0.5, 0.9]}
    client.log_table(run_id, table, "tables/scores.json")
    loaded = mlflow.load_table("tables/scores.json", run_ids=[run_id])
    expect_equal(list(loaded["score"]), [0.1, 0.5, 0.9], "score column")


@check("artifacts", "list_artifacts of an empty run is empty")
def _():
    run = client.create_run(client.get_run(artifact_run()).info.experiment_id)
    expect_equal(client.list_artifacts(run.info.run_id), [], "listing")


@check("artifacts", "listings show only what the client logged")
def _():
    run_id = artifact_run()
    everything = []

    def walk(path):
        for entry in client.list_artifacts(run_id, path):
            everything.append(entry.path)
            if entry.is_dir:
                walk(entry.path)

    walk(None)
    extra = [p for p in everything if p.endswith(".onset-sha256") or "/." in p or p.startswith(".")]
    expect_equal(extra, [], "files the client did not log")


@check("artifacts", "the artifact proxy directly: upload, list, download (mlflow-artifacts:/)")
def _():
    from mlflow.store.artifact.mlflow_artifacts_repo import MlflowArtifactsRepository

    repository = MlflowArtifactsRepository(f"mlflow-artifacts:/checks-proxy-{SUFFIX}")
    with tempfile.TemporaryDirectory() as directory:
        repository.log_artifact(write(directory, "direct.txt", "through the proxy"), "sub")
        listing = [f.path for f in repository.list_artifacts("sub")]
        expect_equal(listing, ["sub/direct.txt"], "listing")
        os.makedirs(os.path.join(directory, "out"))
        path = repository.download_artifacts("sub/direct.txt", os.path.join(directory, "out"))
        with open(path) as file:
            expect_equal(file.read(), "through the proxy", "content")


# --------------------------------------------------------------------------------------------------
# Datasets


def dataset_frame():
    features, labels = classification_data()
    return features.assign(label=labels)


@check("datasets", "mlflow.log_input with a pandas dataset")
def _():
    experiment_id = client.create_experiment(name("datasets"))
    ctx["datasets_exp"] = experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    dataset = mlflow.data.from_pandas(dataset_frame(), source="file:///data/parkinsons.csv", name="parkinsons", targets="label")
    ctx["dataset_digest"] = dataset.digest
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    ctx["dataset_run"] = run.info.run_id


@check("datasets", "the run's inputs hold the dataset with its schema, profile and context")
def _():
    inputs = client.get_run(ctx.need("dataset_run")).inputs.dataset_inputs
    expect_equal(len(inputs), 1, "dataset inputs")
    dataset = inputs[0].dataset
    expect_equal((dataset.name, dataset.digest, dataset.source_type), ("parkinsons", ctx["dataset_digest"], "local"), "name, digest, source_type")
    expect_equal(json.loads(dataset.source)["uri"], "file:///data/parkinsons.csv", "source")
    expect_equal(json.loads(dataset.profile)["num_rows"], 120, "profile num_rows")
    schema = json.loads(dataset.schema)["mlflow_colspec"]
    expect_equal([c["name"] for c in schema], ["age", "bmi", "tremor", "rigidity", "label"], "schema columns")
    expect_equal({t.key: t.value for t in inputs[0].tags}, {"mlflow.data.context": "training"}, "input tags")


@check("datasets", "logging the same dataset twice keeps one input")
def _():
    run_id = ctx.need("dataset_run")
    dataset = mlflow.data.from_pandas(dataset_frame(), source="file:///data/parkinsons.csv", name="parkinsons", targets="label")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_input(dataset, context="training")
    expect_equal(len(client.get_run(run_id).inputs.dataset_inputs), 1, "dataset inputs")


@check("datasets", "two datasets (training and evaluation) on one run")
def _():
    mlflow.set_experiment(experiment_id=ctx.need("datasets_exp"))
    frame = dataset_frame()
    with mlflow.start_run() as run:
        mlflow.log_input(mlflow.data.from_pandas(frame.iloc[:80], name="train"), context="training")
        mlflow.log_input(mlflow.data.from_pandas(frame.iloc[80:], name="eval"), context="evaluation")
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    expect_equal(sorted(i.dataset.name for i in inputs), ["eval", "train"], "names")
    ctx["two_dataset_run"] = run.info.run_id


@check("datasets", "search_runs by dataset name and context")
def _():
    experiment_id = ctx.need("datasets_exp")
    found = run_ids(experiment_id, filter_string="datasets.name = 'parkinsons'")
    expect_equal(found, [ctx.need("dataset_run")], "by name")
    found = run_ids(experiment_id, filter_string="datasets.context = 'evaluation'")
    expect_equal(found, [ctx.need("two_dataset_run")], "by context")


@check("datasets", "search_runs by dataset digest")
def _():
    experiment_id = ctx.need("datasets_exp")
    found = run_ids(experiment_id, filter_string=f"datasets.digest = '{ctx.need('dataset_digest')}'")
    expect_equal(found, [ctx["dataset_run"]], "runs")


@check("datasets", "the dataset source loads back")
def _():
    dataset = client.get_run(ctx.need("dataset_run")).inputs.dataset_inputs[0].dataset
    source = mlflow.data.get_source(dataset)
    expect_equal(source.uri, "file:///data/parkinsons.csv", "source uri")


# --------------------------------------------------------------------------------------------------
# Models


def model_experiment():
    if "models_exp" not in ctx:
        ctx["models_exp"] = client.create_experiment(name("models"))
    mlflow.set_experiment(experiment_id=ctx["models_exp"])


def predictions_equal(actual, expected, what):
    actual, expected = np.asarray(actual, dtype=float).ravel(), np.asarray(expected, dtype=float).ravel()
    expect(actual.shape == expected.shape and np.allclose(actual, expected), f"{what}: predictions differ")


class ThresholdModel(mlflow.pyfunc.PythonModel):
    """A PythonModel as a user writes one: a rule over two columns."""

    def __init__(self, threshold):
        self.threshold = threshold

    def predict(self, context, model_input, params=None):
        return (model_input["tremor"] + model_input["rigidity"] > self.threshold).astype(int)


PIP = ["scikit-learn", "xgboost", "pandas"]


def registered_versions(info):
    """The versions registered from the run a `ModelInfo` was logged to (MLflow 2.12's has no version)."""
    found = client.search_model_versions(f"run_id = '{info.run_id}'")
    return sorted(v.version for v in found)


@check("models", "sklearn log_model without registering")
def _():
    from sklearn.linear_model import LogisticRegression

    model_experiment()
    features, labels = classification_data()
    model = LogisticRegression().fit(features, labels)
    ctx["sk_expected"] = model.predict_proba(features)[:, 1]
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, "model", input_example=features.iloc[:3], signature=mlflow.models.infer_signature(features, labels)
        )
    expect_equal(info.model_uri, f"runs:/{run.info.run_id}/model", "model_uri")
    listing = sorted(f.path for f in client.list_artifacts(run.info.run_id, "model"))
    for expected in ("model/MLmodel", "model/model.pkl", "model/requirements.txt", "model/input_example.json"):
        expect(expected in listing, f"{expected} not in {listing}")
    ctx["sk_run"] = run.info.run_id


@check("models", "log_model records the mlflow.log-model.history tag")
def _():
    tag = client.get_run(ctx.need("sk_run")).data.tags.get("mlflow.log-model.history")
    expect(tag is not None, "tag mlflow.log-model.history missing")
    history = json.loads(tag)
    expect_equal((history[0]["artifact_path"], history[0]["run_id"]), ("model", ctx["sk_run"]), "history entry")
    expect("sklearn" in history[0]["flavors"], f"flavors {sorted(history[0]['flavors'])}")


@check("models", "sklearn load_model from runs:/ and predict")
def _():
    features, _ = classification_data()
    model = mlflow.sklearn.load_model(f"runs:/{ctx.need('sk_run')}/model")
    predictions_equal(model.predict_proba(features)[:, 1], ctx["sk_expected"], "sklearn")


@check("models", "pyfunc load_model from runs:/ with its signature")
def _():
    features, _ = classification_data()
    model = mlflow.pyfunc.load_model(f"runs:/{ctx.need('sk_run')}/model")
    expect_equal([i["name"] for i in model.metadata.get_input_schema().to_dict()], list(features.columns), "input schema")
    expect_equal(len(model.predict(features)), 120, "predictions")


@check("models", "mlflow.models.get_model_info from runs:/")
def _():
    info = mlflow.models.get_model_info(f"runs:/{ctx.need('sk_run')}/model")
    expect("sklearn" in info.flavors and "python_function" in info.flavors, f"flavors {sorted(info.flavors)}")


@check("models", "mlflow.register_model from runs:/")
def _():
    version = mlflow.register_model(f"runs:/{ctx.need('sk_run')}/model", name("sk"))
    expect_equal((version.name, version.version, version.status), (name("sk"), "1", "READY"), "name, version, status")
    expect_equal(version.run_id, ctx["sk_run"], "run_id")
    ctx["sk_registered"] = True


@check("models", "sklearn load_model from models:/name/1 and predict")
def _():
    ctx.need("sk_registered")
    features, _ = classification_data()
    model = mlflow.sklearn.load_model(f"models:/{name('sk')}/1")
    predictions_equal(model.predict_proba(features)[:, 1], ctx["sk_expected"], "sklearn")


@check("models", "create_model_version from the run's artifact URI")
def _():
    run = client.get_run(ctx.need("sk_run"))
    version = client.create_model_version(name("sk"), f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    expect_equal((version.version, version.source), ("2", f"{run.info.artifact_uri}/model"), "version, source")
    expect_equal(client.get_model_version(name("sk"), "2").status, "READY", "status")
    ctx["sk_v2"] = True


@check("models", "load_model from models:/name/2 (a version from an artifact URI)")
def _():
    ctx.need("sk_v2")
    features, _ = classification_data()
    model = mlflow.pyfunc.load_model(f"models:/{name('sk')}/2")
    expect_equal(len(model.predict(features)), 120, "predictions")


@check("models", "load_model from models:/name@alias")
def _():
    ctx.need("sk_registered")
    client.set_registered_model_alias(name("sk"), "champion", "1")
    features, _ = classification_data()
    model = mlflow.sklearn.load_model(f"models:/{name('sk')}@champion")
    predictions_equal(model.predict_proba(features)[:, 1], ctx["sk_expected"], "sklearn")


@check("models", "load_model from models:/name/Production")
def _():
    ctx.need("sk_registered")
    client.transition_model_version_stage(name("sk"), "1", "Production")
    features, _ = classification_data()
    model = mlflow.pyfunc.load_model(f"models:/{name('sk')}/Production")
    expect_equal(len(model.predict(features)), 120, "predictions")


@check("models", "load_model from models:/name/latest")
def _():
    ctx.need("sk_v2")
    model = mlflow.pyfunc.load_model(f"models:/{name('sk')}/latest")
    expect_equal(model.metadata.run_id, ctx["sk_run"], "run_id")


@check("models", "sklearn log_model with registered_model_name")
def _():
    from sklearn.tree import DecisionTreeClassifier

    model_experiment()
    features, labels = classification_data()
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(features, labels)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, "tree", registered_model_name=name("sk-tree"), pip_requirements=PIP)
    expect_equal(registered_versions(info), ["1"], "registered versions")
    loaded = mlflow.sklearn.load_model(f"models:/{name('sk-tree')}/1")
    predictions_equal(loaded.predict(features), model.predict(features), "tree")


def xgboost_model():
    import xgboost

    features, labels = classification_data()
    model = xgboost.XGBClassifier(n_estimators=8, max_depth=3, random_state=0).fit(features, labels)
    return model, features, model.predict_proba(features)[:, 1]


@check("models", "xgboost log_model, JSON format, without registering")
def _():
    model_experiment()
    model, features, expected = xgboost_model()
    with mlflow.start_run() as run:
        mlflow.xgboost.log_model(model, "xgb", model_format="json", pip_requirements=PIP)
    listing = [f.path for f in client.list_artifacts(run.info.run_id, "xgb")]
    expect("xgb/model.json" in listing, f"listing {listing}")
    loaded = mlflow.xgboost.load_model(f"runs:/{run.info.run_id}/xgb")
    predictions_equal(loaded.predict_proba(features)[:, 1], expected, "xgboost json")


@check("models", "xgboost log_model, JSON format, with registered_model_name")
def _():
    model_experiment()
    model, features, expected = xgboost_model()
    with mlflow.start_run():
        info = mlflow.xgboost.log_model(model, "xgb", model_format="json", registered_model_name=name("xgb-json"), pip_requirements=PIP)
    expect_equal(registered_versions(info), ["1"], "registered versions")
    ctx["xgb_json"] = expected


@check("models", "xgboost load_model from models:/ (JSON) and predict")
def _():
    expected = ctx.need("xgb_json")
    features, _ = classification_data()
    loaded = mlflow.xgboost.load_model(f"models:/{name('xgb-json')}/1")
    predictions_equal(loaded.predict_proba(features)[:, 1], expected, "xgboost json")


@check("models", "xgboost log_model, UBJ format, with registered_model_name")
def _():
    model_experiment()
    model, features, expected = xgboost_model()
    with mlflow.start_run() as run:
        info = mlflow.xgboost.log_model(model, "xgb", model_format="ubj", registered_model_name=name("xgb-ubj"), pip_requirements=PIP)
    expect_equal(registered_versions(info), ["1"], "registered versions")
    listing = [f.path for f in client.list_artifacts(run.info.run_id, "xgb")]
    expect("xgb/model.ubj" in listing, f"listing {listing}")
    ctx["xgb_ubj"] = expected


@check("models", "xgboost load_model from models:/ (UBJ) and pyfunc predict")
def _():
    expected = ctx.need("xgb_ubj")
    features, _ = classification_data()
    loaded = mlflow.xgboost.load_model(f"models:/{name('xgb-ubj')}/1")
    predictions_equal(loaded.predict_proba(features)[:, 1], expected, "xgboost ubj")
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name('xgb-ubj')}/1")
    expect_equal(len(pyfunc.predict(features)), 120, "pyfunc predictions")


@check("models", "xgboost UBJ log_model without registering")
def _():
    model_experiment()
    model, features, expected = xgboost_model()
    with mlflow.start_run() as run:
        mlflow.xgboost.log_model(model, "xgb", model_format="ubj", pip_requirements=PIP)
    loaded = mlflow.xgboost.load_model(f"runs:/{run.info.run_id}/xgb")
    predictions_equal(loaded.predict_proba(features)[:, 1], expected, "xgboost ubj")


@check("models", "pyfunc PythonModel log_model without registering, then register_model")
def _():
    model_experiment()
    features, _ = classification_data()
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model("rule", python_model=ThresholdModel(0.25), pip_requirements=["pandas"])
    loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/rule")
    predictions_equal(loaded.predict(features), ThresholdModel(0.25).predict(None, features), "runs:/ rule")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/rule", name("rule"))
    expect_equal(version.version, "1", "version")
    ctx["rule_run"] = run.info.run_id


@check("models", "pyfunc PythonModel log_model with registered_model_name")
def _():
    model_experiment()
    features, _ = classification_data()
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model("rule", python_model=ThresholdModel(0.5), registered_model_name=name("rule"), pip_requirements=["pandas"])
    expect_equal(registered_versions(info), ["2"], "registered versions")
    loaded = mlflow.pyfunc.load_model(f"models:/{name('rule')}/2")
    predictions_equal(loaded.predict(features), ThresholdModel(0.5).predict(None, features), "rule")


@check("models", "get_model_version_download_uri leads to the model's files")
def _():
    ctx.need("sk_registered")
    uri = client.get_model_version_download_uri(name("sk"), "1")
    with tempfile.TemporaryDirectory() as directory:
        path = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=directory)
        expect(os.path.exists(os.path.join(path, "MLmodel")), f"no MLmodel under {uri}")


@check("models", "models:/ download with mlflow.artifacts.download_artifacts")
def _():
    ctx.need("sk_registered")
    with tempfile.TemporaryDirectory() as directory:
        path = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name('sk')}/1", dst_path=directory)
        expect(os.path.exists(os.path.join(path, "model.pkl")), "no model.pkl")


@check("models", "copy_model_version to another registered model")
def _():
    ctx.need("sk_registered")
    copy = client.copy_model_version(f"models:/{name('sk')}/1", name("sk-copy"))
    expect_equal((copy.name, copy.version), (name("sk-copy"), "1"), "name, version")
    expect_equal(copy.source, f"models:/{name('sk')}/1", "source")
    features, _ = classification_data()
    model = mlflow.sklearn.load_model(f"models:/{name('sk-copy')}/1")
    predictions_equal(model.predict_proba(features)[:, 1], ctx["sk_expected"], "copy")


# --------------------------------------------------------------------------------------------------
# Registry


def registry_source():
    """A logged pyfunc model the registry checks make versions from."""
    if "reg_source" not in ctx:
        mlflow.set_experiment(name("registry"))  # gets or creates: an earlier attempt may have failed
        with mlflow.start_run() as run:
            mlflow.pyfunc.log_model("model", python_model=ThresholdModel(0.0), pip_requirements=["pandas"])
        ctx["reg_run"] = run.info.run_id
        ctx["reg_source"] = f"{run.info.artifact_uri}/model"
    return ctx["reg_source"]


def new_version(model_name, **options):
    return client.create_model_version(model_name, registry_source(), run_id=ctx["reg_run"], **options)


@check("registry", "create_registered_model with tags and description")
def _():
    model = client.create_registered_model(name("reg"), tags={"task": "classification"}, description="first")
    expect_equal((model.name, model.description, model.tags), (name("reg"), "first", {"task": "classification"}), "model")
    expect(model.creation_timestamp > 1e12, "creation_timestamp")
    ctx["reg"] = name("reg")


@check("registry", "get_registered_model")
def _():
    model = client.get_registered_model(ctx.need("reg"))
    expect_equal((model.name, model.description), (ctx["reg"], "first"), "name, description")
    expect_equal(model.latest_versions, [], "latest_versions")


@check("registry", "update_registered_model description")
def _():
    client.update_registered_model(ctx.need("reg"), description="second")
    expect_equal(client.get_registered_model(ctx["reg"]).description, "second", "description")


@check("registry", "set_registered_model_tag and delete_registered_model_tag")
def _():
    model_name = ctx.need("reg")
    client.set_registered_model_tag(model_name, "owner", "neuro")
    expect_equal(client.get_registered_model(model_name).tags.get("owner"), "neuro", "tag")
    client.delete_registered_model_tag(model_name, "owner")
    expect("owner" not in client.get_registered_model(model_name).tags, "tag still there")


@check("registry", "create_model_version with tags and description")
def _():
    version = new_version(ctx.need("reg"), tags={"data": "v1"}, description="baseline")
    expect_equal((version.version, version.status), ("1", "READY"), "version, status")
    expect_equal((version.tags, version.description), ({"data": "v1"}, "baseline"), "tags, description")
    expect_equal((version.run_id, version.source), (ctx["reg_run"], registry_source()), "run_id, source")
    expect_equal(version.current_stage, "None", "current_stage")
    ctx["reg_v1"] = True


@check("registry", "versions number 1, 2, 3")
def _():
    ctx.need("reg_v1")
    expect_equal([new_version(ctx["reg"]).version for _ in range(2)], ["2", "3"], "versions")
    ctx["reg_v3"] = True


@check("registry", "get_model_version")
def _():
    ctx.need("reg_v1")
    version = client.get_model_version(ctx["reg"], "1")
    expect_equal((version.name, version.version, version.description), (ctx["reg"], "1", "baseline"), "version")
    expect(version.creation_timestamp > 1e12, "creation_timestamp")


@check("registry", "update_model_version description")
def _():
    ctx.need("reg_v1")
    client.update_model_version(ctx["reg"], "1", description="baseline, revised")
    expect_equal(client.get_model_version(ctx["reg"], "1").description, "baseline, revised", "description")


@check("registry", "set_model_version_tag and delete_model_version_tag")
def _():
    ctx.need("reg_v1")
    client.set_model_version_tag(ctx["reg"], "1", "validated", "yes")
    expect_equal(client.get_model_version(ctx["reg"], "1").tags.get("validated"), "yes", "tag")
    client.delete_model_version_tag(ctx["reg"], "1", "validated")
    expect("validated" not in client.get_model_version(ctx["reg"], "1").tags, "tag still there")


@check("registry", "transition_model_version_stage to Staging and Production")
def _():
    ctx.need("reg_v3")
    expect_equal(client.transition_model_version_stage(ctx["reg"], "1", "Staging").current_stage, "Staging", "v1")
    expect_equal(client.transition_model_version_stage(ctx["reg"], "2", "Production").current_stage, "Production", "v2")


@check("registry", "stage names are case-insensitive")
def _():
    ctx.need("reg_v3")
    version = client.transition_model_version_stage(ctx["reg"], "3", "staging")
    expect_equal(version.current_stage, "Staging", "current_stage")


@check("registry", "archive_existing_versions archives the previous Production version")
def _():
    ctx.need("reg_v3")
    client.transition_model_version_stage(ctx["reg"], "3", "Production", archive_existing_versions=True)
    stages = {v: client.get_model_version(ctx["reg"], v).current_stage for v in ("1", "2", "3")}
    expect_equal(stages, {"1": "Staging", "2": "Archived", "3": "Production"}, "stages")


@check("registry", "get_latest_versions by stage and for all stages")
def _():
    ctx.need("reg_v3")
    production = client.get_latest_versions(ctx["reg"], stages=["Production"])
    expect_equal([v.version for v in production], ["3"], "Production")
    every = {v.current_stage: v.version for v in client.get_latest_versions(ctx["reg"])}
    expect_equal(every, {"Staging": "1", "Archived": "2", "Production": "3"}, "latest per stage")


@check("registry", "registered model latest_versions lists one per stage")
def _():
    ctx.need("reg_v3")
    latest = {v.current_stage: v.version for v in client.get_registered_model(ctx["reg"]).latest_versions}
    expect_equal(latest, {"Staging": "1", "Archived": "2", "Production": "3"}, "latest_versions")


@check("registry", "set_registered_model_alias and get_model_version_by_alias")
def _():
    ctx.need("reg_v3")
    client.set_registered_model_alias(ctx["reg"], "champion", "3")
    client.set_registered_model_alias(ctx["reg"], "challenger", "1")
    expect_equal(client.get_model_version_by_alias(ctx["reg"], "champion").version, "3", "champion")
    expect_equal(client.get_registered_model(ctx["reg"]).aliases, {"champion": "3", "challenger": "1"}, "aliases")
    expect_equal(client.get_model_version(ctx["reg"], "3").aliases, ["champion"], "version aliases")
    ctx["reg_alias"] = True


@check("registry", "moving an alias to another version")
def _():
    ctx.need("reg_alias")
    client.set_registered_model_alias(ctx["reg"], "champion", "2")
    expect_equal(client.get_model_version_by_alias(ctx["reg"], "champion").version, "2", "champion")
    expect_equal(client.get_model_version(ctx["reg"], "3").aliases, [], "old version's aliases")


@check("registry", "delete_registered_model_alias")
def _():
    ctx.need("reg_alias")
    client.delete_registered_model_alias(ctx["reg"], "challenger")
    expect_equal(client.get_registered_model(ctx["reg"]).aliases, {"champion": "2"}, "aliases")


@check("registry", "get_model_version_stages")
def _():
    ctx.need("reg_v1")
    stages = client.get_model_version_stages(ctx["reg"], "1")
    expect_equal(sorted(stages), ["Archived", "None", "Production", "Staging"], "stages")


@check("registry", "get_model_version_download_uri is the version's artifact location")
def _():
    ctx.need("reg_v1")
    uri = client.get_model_version_download_uri(ctx["reg"], "1")
    expect(uri.endswith("/model"), f"uri {uri}")
    with tempfile.TemporaryDirectory() as directory:
        path = mlflow.artifacts.download_artifacts(artifact_uri=f"{uri}/MLmodel", dst_path=directory)
        with open(path) as file:
            expect("python_function" in file.read(), "MLmodel without python_function")


@check("registry", "search_registered_models by name LIKE, ordered, paged")
def _():
    for what in ("reg-s-c", "reg-s-a", "reg-s-b"):
        client.create_registered_model(name(what))
    pattern = f"name LIKE 'checks-reg-s-%-{SUFFIX}'"
    first = client.search_registered_models(filter_string=pattern, max_results=2, order_by=["name ASC"])
    expect_equal([m.name for m in first], [name("reg-s-a"), name("reg-s-b")], "first page")
    expect(first.token, "no token after a full page")
    second = client.search_registered_models(filter_string=pattern, max_results=2, order_by=["name ASC"], page_token=first.token)
    expect_equal([m.name for m in second], [name("reg-s-c")], "second page")


@check("registry", "search_registered_models by tag")
def _():
    ctx.need("reg")
    found = client.search_registered_models(filter_string="tags.task = 'classification'")
    expect(ctx["reg"] in [m.name for m in found], "model not found by tag")


@check("registry", "search_model_versions by name and by run_id")
def _():
    ctx.need("reg_v3")
    found = client.search_model_versions(f"name = '{ctx['reg']}'")
    expect_equal(sorted(v.version for v in found), ["1", "2", "3"], "by name")
    found = client.search_model_versions(f"run_id = '{ctx['reg_run']}'")
    expect(len(found) >= 3, f"{len(found)} versions by run_id")


@check("registry", "search_model_versions ordered and paged")
def _():
    ctx.need("reg_v3")
    found = client.search_model_versions(f"name = '{ctx['reg']}'", order_by=["version_number DESC"], max_results=2)
    expect_equal([v.version for v in found], ["3", "2"], "first page")


@check("registry", "rename_registered_model keeps its versions")
def _():
    ctx.need("reg_v3")
    client.rename_registered_model(ctx["reg"], name("reg-renamed"))
    ctx["reg"] = name("reg-renamed")
    versions = client.search_model_versions(f"name = '{name('reg-renamed')}'")
    expect_equal(sorted(v.version for v in versions), ["1", "2", "3"], "versions")
    expect_error(lambda: client.get_registered_model(name("reg")), "RESOURCE_DOES_NOT_EXIST")


@check("registry", "delete_model_version")
def _():
    ctx.need("reg_v3")
    client.delete_model_version(ctx["reg"], "1")
    expect_error(lambda: client.get_model_version(ctx["reg"], "1"), "RESOURCE_DOES_NOT_EXIST")
    expect_equal(sorted(v.version for v in client.search_model_versions(f"name = '{ctx['reg']}'")), ["2", "3"], "versions left")


@check("registry", "a new version after a deletion takes the next number")
def _():
    ctx.need("reg_v3")
    expect_equal(new_version(ctx["reg"]).version, "4", "version")


@check("registry", "delete_registered_model deletes its versions")
def _():
    model_name = name("reg-doomed")
    client.create_registered_model(model_name)
    registry_source()
    new_version(model_name)
    client.delete_registered_model(model_name)
    expect_error(lambda: client.get_registered_model(model_name), "RESOURCE_DOES_NOT_EXIST")
    expect_equal(client.search_model_versions(f"name = '{model_name}'"), [], "versions")


# --------------------------------------------------------------------------------------------------
# Errors


def errors_run():
    if "err_run" not in ctx:
        ctx["err_exp"] = client.create_experiment(name("errors"))
        ctx["err_run"] = client.create_run(ctx["err_exp"]).info.run_id
    return ctx["err_run"]


@check("errors", "get_run of a missing run: RESOURCE_DOES_NOT_EXIST")
def _():
    expect_error(lambda: client.get_run(uuid.uuid4().hex), "RESOURCE_DOES_NOT_EXIST")


@check("errors", "get_experiment of a missing id: RESOURCE_DOES_NOT_EXIST")
def _():
    expect_error(lambda: client.get_experiment("987654321"), "RESOURCE_DOES_NOT_EXIST")


@check("errors", "a duplicate experiment name: RESOURCE_ALREADY_EXISTS")
def _():
    errors_run()
    expect_error(lambda: client.create_experiment(name("errors")), "RESOURCE_ALREADY_EXISTS")


@check("errors", "logging to a deleted run: INVALID_PARAMETER_VALUE")
def _():
    run = client.create_run(errors_run() and ctx["err_exp"])
    client.delete_run(run.info.run_id)
    expect_error(lambda: client.log_metric(run.info.run_id, "m", 1.0), "INVALID_PARAMETER_VALUE")
    expect_error(lambda: client.log_param(run.info.run_id, "p", "1"), "INVALID_PARAMETER_VALUE")


@check("errors", "changing a logged param: INVALID_PARAMETER_VALUE")
def _():
    run_id = errors_run()
    client.log_param(run_id, "fixed", "1")
    expect_error(lambda: client.log_param(run_id, "fixed", "2"), "INVALID_PARAMETER_VALUE")


@check("errors", "creating a run in a deleted experiment: INVALID_PARAMETER_VALUE")
def _():
    experiment_id = client.create_experiment(name("errors-deleted"))
    client.delete_experiment(experiment_id)
    expect_error(lambda: client.create_run(experiment_id), "INVALID_PARAMETER_VALUE")


@check("errors", "an invalid search filter: INVALID_PARAMETER_VALUE")
def _():
    experiment_id = errors_run() and ctx["err_exp"]
    expect_error(lambda: client.search_runs([experiment_id], "metrics.x >>> 1"), "INVALID_PARAMETER_VALUE")
    expect_error(lambda: client.search_runs([experiment_id], "foo.x = 1"), "INVALID_PARAMETER_VALUE")


@check("errors", "max_results over the limit: INVALID_PARAMETER_VALUE")
def _():
    experiment_id = errors_run() and ctx["err_exp"]
    expect_error(lambda: client.search_runs([experiment_id], max_results=50001), "INVALID_PARAMETER_VALUE")


@check("errors", "get_registered_model of a missing model: RESOURCE_DOES_NOT_EXIST")
def _():
    expect_error(lambda: client.get_registered_model(name("no-such-model")), "RESOURCE_DOES_NOT_EXIST")


@check("errors", "a duplicate registered model: RESOURCE_ALREADY_EXISTS")
def _():
    client.create_registered_model(name("err-model"))
    expect_error(lambda: client.create_registered_model(name("err-model")), "RESOURCE_ALREADY_EXISTS")


@check("errors", "get_model_version of a missing version: RESOURCE_DOES_NOT_EXIST")
def _():
    client.create_registered_model(name("err-empty"))
    expect_error(lambda: client.get_model_version(name("err-empty"), "7"), "RESOURCE_DOES_NOT_EXIST")


@check("errors", "a missing alias: INVALID_PARAMETER_VALUE")
def _():
    client.create_registered_model(name("err-alias"))
    expect_error(lambda: client.get_model_version_by_alias(name("err-alias"), "nobody"), "INVALID_PARAMETER_VALUE")


@check("errors", "an unknown stage: INVALID_PARAMETER_VALUE")
def _():
    registry_source()
    client.create_registered_model(name("err-stage"))
    new_version(name("err-stage"))
    expect_error(lambda: client.transition_model_version_stage(name("err-stage"), "1", "Retired"), "INVALID_PARAMETER_VALUE")


@check("errors", "loading models:/ of a missing model: RESOURCE_DOES_NOT_EXIST")
def _():
    expect_error(lambda: mlflow.pyfunc.load_model(f"models:/{name('no-such-model')}/1"), "RESOURCE_DOES_NOT_EXIST")


@check("errors", "the error's HTTP status is the one MLflow gives for its code")
def _():
    import requests

    uri = mlflow.get_tracking_uri().rstrip("/")
    headers = {}
    if os.environ.get("MLFLOW_TRACKING_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}"
    answer = requests.get(f"{uri}/api/2.0/mlflow/runs/get", params={"run_id": uuid.uuid4().hex}, headers=headers, timeout=30)
    expect_equal(answer.status_code, 404, "status of a missing run")
    expect_equal(answer.json().get("error_code"), "RESOURCE_DOES_NOT_EXIST", "error_code")
    answer = requests.post(f"{uri}/api/2.0/mlflow/experiments/create", json={"name": name("errors")}, headers=headers, timeout=30)
    expect_equal(answer.status_code, 400, "status of a duplicate experiment")


# --------------------------------------------------------------------------------------------------


def main():
    global client, SUFFIX
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated groups: " + ", ".join(GROUPS))
    parser.add_argument("--list", action="store_true", help="print the checks and exit")
    parser.add_argument("--suffix", help="what the names of what the checks create end with")
    options = parser.parse_args()
    groups = options.only.split(",") if options.only else GROUPS
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; the groups are {GROUPS}")
    selected = [c for c in CHECKS if c[0] in groups]
    if options.list:
        for group, check_name, _, _ in selected:
            print(f"{group}/{check_name}")
        return 0
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        sys.exit("set MLFLOW_TRACKING_URI to the tracking server, e.g. http://127.0.0.1:9696")
    SUFFIX = options.suffix or uuid.uuid4().hex[:8]
    client = MlflowClient()
    print(f"MLflow {mlflow.__version__} client against {mlflow.get_tracking_uri()}, suffix {SUFFIX}")
    passed, failed = 0, []
    outcome = {}
    for group, check_name, function, needs in selected:
        blocked = [n for n in needs if outcome.get(n) is False]
        started = time.time()
        try:
            if blocked:
                raise Blocked(f"check '{blocked[0]}'")
            function()
            outcome[check_name] = True
            passed += 1
            print(f"PASS {group}/{check_name} ({time.time() - started:.1f} s)", flush=True)
        except Exception as error:  # every failure is reported, none stops the others
            outcome[check_name] = False
            if isinstance(error, Blocked):
                reason = f"blocked: needs {error.args[0]} (failed earlier)"
            elif isinstance(error, AssertionError):
                reason = str(error)
            else:
                reason = f"{type(error).__name__}: {str(error)[:400]}"
            reason = " ".join(reason.split())
            failed.append((group, check_name, reason))
            print(f"FAIL {group}/{check_name}: {reason}", flush=True)
            if os.environ.get("CHECKS_TRACEBACK"):
                traceback.print_exc()
        finally:
            while mlflow.active_run():
                mlflow.end_run()
    print(f"total: {passed + len(failed)} checks, {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

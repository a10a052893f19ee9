"""The Helm chart renders, lints, and its objects are valid Kubernetes objects of the targeted
version (the JSON schemas bundled in the kubernetes-validate package); every role, flag and
environment variable it sets is one the worker knows.

Helm comes from ``go install helm.sh/helm/v4/cmd/helm@v4.3.2`` (``.ci/run`` installs it); without
it these tests skip, unless ``BILLING_HELM_REQUIRED=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from agents.settings import ROLES
from billing_meter.cli import build_parser
from billing_meter.worker import SHUTDOWN_S

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "billing-meter"
TEST_VALUES = CHART / "ci" / "test-values.yaml"
KUBE_VERSION = "1.30.0"  # the oldest minor the chart targets that is still widely run
CUSTOM = {"ServiceMonitor", "PrometheusRule", "ScaledObject"}  # CRDs: no bundled schema
PACKAGES = ("pipeline", "agents", "sinks", "web", "billing", "billing_meter")


def _helm() -> str:
    found = shutil.which("helm") or str(Path.home() / "go" / "bin" / "helm")
    if Path(found).is_file():
        return found
    if os.environ.get("BILLING_HELM_REQUIRED") == "1":
        pytest.fail("helm is required (go install helm.sh/helm/v4/cmd/helm@v4.3.2)")
    pytest.skip("no helm: go install helm.sh/helm/v4/cmd/helm@v4.3.2")


def _helm_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_helm(), *args], capture_output=True, text=True, check=False, timeout=120
    )


def _render(*values: str) -> list[dict[str, Any]]:
    sets = [arg for value in values for arg in ("--set", value)]
    result = _helm_run("template", "bm", str(CHART), "-f", str(TEST_VALUES), *sets)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return _render()


def _of(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_helm_lint_passes() -> None:
    result = _helm_run("lint", "--strict", str(CHART), "-f", str(TEST_VALUES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_object_is_valid_for_the_targeted_kubernetes(objects: list[dict[str, Any]]) -> None:
    kinds = {o["kind"] for o in objects}
    expected = {"Deployment", "Service", "Secret", "PodDisruptionBudget", *CUSTOM}
    assert kinds == expected
    for obj in objects:
        if obj["kind"] not in CUSTOM:  # strict: an unknown field is an error too
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)


def test_a_broken_object_fails_the_validation(objects: list[dict[str, Any]]) -> None:
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBE_VERSION, strict=True)


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_each_role_is_a_deployment_the_cli_accepts(objects: list[dict[str, Any]]) -> None:
    deployments = _of(objects, "Deployment")
    roles = {}
    for deployment in deployments.values():
        args = _container(deployment)["args"]
        build_parser().parse_args(args)  # every flag exists (a wrong one exits 2)
        roles[args[args.index("--roles") + 1]] = deployment
    assert set(roles) == set(ROLES)
    assert roles["billing"]["spec"]["replicas"] == 1
    assert "replicas" not in roles["meter"]["spec"]  # KEDA owns the count
    for deployment in roles.values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= SHUTDOWN_S
        for probe in ("readinessProbe", "livenessProbe"):
            assert _container(deployment)[probe]["httpGet"]["path"] == "/api/health"


def _names_the_code_reads() -> set[str]:
    pattern = re.compile(r'"((?:BILLING|KAFKA|CLICKHOUSE)_[A-Z_]+)"')
    names = set()
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            names.update(pattern.findall(source.read_text()))
    return names


def test_every_environment_variable_set_is_read_by_the_code(
    objects: list[dict[str, Any]],
) -> None:
    known = _names_the_code_reads()
    set_by_chart = {
        env["name"]
        for deployment in _of(objects, "Deployment").values()
        for env in _container(deployment)["env"]
    }
    assert {"KAFKA_BOOTSTRAP", "CLICKHOUSE_URL", "BILLING_DB_URL"} <= set_by_chart
    assert set_by_chart - known == set()


def test_secrets_are_referenced_not_inlined(objects: list[dict[str, Any]]) -> None:
    (secret,) = _of(objects, "Secret").values()
    for deployment in _of(objects, "Deployment").values():
        for env in _container(deployment)["env"]:
            if env["name"] in {"CLICKHOUSE_URL", "BILLING_DB_URL", "BILLING_API_TOKEN"}:
                ref = env["valueFrom"]["secretKeyRef"]
                assert ref["name"] == secret["metadata"]["name"]
                assert ref["key"] in secret["stringData"]


def test_the_rules_are_the_alert_rules_and_the_scaler_reads_the_meter_group(
    objects: list[dict[str, Any]],
) -> None:
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    (rule,) = _of(objects, "PrometheusRule").values()
    assert rule["spec"]["groups"] == rules["groups"]
    assert (CHART / "files" / "alerts.yml").read_text() == (
        ROOT / "deploy" / "prometheus" / "alerts.yml"
    ).read_text()
    (scaled,) = _of(objects, "ScaledObject").values()
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == "billing-meter"  # WorkerSettings.group
    (pdb,) = _of(objects, "PodDisruptionBudget").values()
    assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "meter"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["roles.meter.replicas=7"], "at most kafka.partitions"),
        (["secrets.databaseUrl="], "secrets.databaseUrl"),
    ],
)
def test_values_that_cannot_work_are_refused(values: list[str], message: str) -> None:
    sets = [arg for value in values for arg in ("--set", value)]
    result = _helm_run("template", "bm", str(CHART), "-f", str(TEST_VALUES), *sets)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_defaults_with_an_existing_secret_are_valid() -> None:
    result = _helm_run("template", "bm", str(CHART), "--set", "secrets.existingSecret=bm")
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert {o["kind"] for o in objects} == {"Deployment", "Service", "PodDisruptionBudget"}
    for obj in objects:
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
    meter = _of(objects, "Deployment")["bm-billing-meter-meter"]
    assert meter["spec"]["replicas"] == 2  # no KEDA by default
    refs = {
        e["valueFrom"]["secretKeyRef"]["name"] for e in _container(meter)["env"] if "valueFrom" in e
    }
    assert refs == {"bm"}

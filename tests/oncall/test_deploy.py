"""deploy/: what can be checked without Docker or a cluster is checked here.

* alert rules: ``promtool check rules`` and ``promtool test rules``;
* Kubernetes manifests: the Kubernetes JSON schemas (kubernetes-validate, strict);
* the Dockerfile: hadolint, and its build steps against the project;
* the systemd unit: ``systemd-analyze verify``;
* every metric an alert or the dashboard uses exists, every alert has a runbook section.

A tool that is missing fails the test under CI=true and skips it loudly otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot import metrics
from bot.config import VARIABLES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
RULE_TESTS = DEPLOY / "prometheus" / "alerts.test.yml"
K8S = DEPLOY / "k8s"
SECRET_VARS = {v.name for v in VARIABLES if v.secret}
yaml = YAML(typ="safe")


def tool(name: str) -> str:
    venv_bin = ROOT / ".venv" / "bin" / name
    path = str(venv_bin) if venv_bin.exists() else shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (CI needs it: make system-deps / the test extra)")
        pytest.skip(f"{name} is not installed here; CI runs this check")
    return path


def run(*cmd: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)


# --- Prometheus ---------------------------------------------------------------------


def test_promtool_accepts_the_rules():
    result = run(tool("promtool"), "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_of_the_alerts_pass():
    result = run(tool("promtool"), "test", "rules", str(RULE_TESTS), cwd=RULES.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def exported_names() -> set[str]:
    names = {"up"}
    for family in metrics.REGISTRY.collect():
        for sample in family.samples:
            names.add(sample.name)
    # Histograms and labelled counters export nothing until observed: add their series names.
    for collector in metrics.REGISTRY._collector_to_names:  # noqa: SLF001 - the registry's own index
        names.update(metrics.REGISTRY._collector_to_names[collector])
    return names


def metric_names_in(expr: str) -> set[str]:
    return {m for m in re.findall(r"\b(frontdoor_[a-z_]+|up)\b", expr)}


def alert_rules() -> list[dict]:
    return [r for g in yaml.load(RULES.read_text())["groups"] for r in g["rules"]]


def dashboard_exprs() -> list[str]:
    dash = json.loads((DEPLOY / "grafana" / "frontdoor.json").read_text())
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def test_every_metric_in_alerts_and_dashboard_is_exported():
    known = exported_names()
    used = set()
    for expr in [r["expr"] for r in alert_rules()] + dashboard_exprs():
        used |= metric_names_in(expr)
    assert used - known == set()
    assert "frontdoor_callback_oldest_waiting_seconds" in used


def runbook_sections() -> dict[str, str]:
    """Sections of deploy/RUNBOOK.md by their GitHub anchor."""
    sections: dict[str, str] = {}
    for block in re.split(r"^## ", (DEPLOY / "RUNBOOK.md").read_text(), flags=re.M)[1:]:
        title, _, body = block.partition("\n")
        sections[re.sub(r"[^a-z0-9 -]", "", title.strip().lower()).replace(" ", "-")] = body
    return sections


def test_every_alert_has_a_runbook_section():
    sections = runbook_sections()
    for rule in alert_rules():
        anchor = rule["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor in sections, f"{rule['alert']}: no '## {rule['alert']}' section in deploy/RUNBOOK.md"
        for part in ("**What it means for people.**", "**How to check.**", "**How to fix.**"):
            assert part in sections[anchor], f"{rule['alert']}: the runbook section lacks {part}"


def test_the_dashboard_is_importable_grafana_json():
    dash = json.loads((DEPLOY / "grafana" / "frontdoor.json").read_text())
    assert dash["uid"] == "frontdoor" and dash["panels"]
    for panel in dash["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"
            assert panel["targets"]


# --- Kubernetes ---------------------------------------------------------------------


def manifests() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def test_manifests_match_the_kubernetes_schemas():
    kv = pytest.importorskip("kubernetes_validate") if os.environ.get("CI") != "true" else __import__("kubernetes_validate")
    kinds = set()
    for name, doc in manifests():
        for version in ("1.28.0", kv.latest_version()):
            kv.validate(doc, version, strict=True)
        kinds.add(doc["kind"])
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"} <= kinds


def test_the_schema_check_does_catch_mistakes():
    kv = pytest.importorskip("kubernetes_validate")
    deployment = next(d for _, d in manifests() if d["kind"] == "Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/readyz", "port": "http"}}
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, kv.latest_version(), strict=True)


def test_kustomization_lists_every_manifest():
    listed = set(yaml.load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {name for name, _ in manifests()}


def test_deployment_probes_security_and_no_secret_values():
    deployment = next(d for _, d in manifests() if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["terminationGracePeriodSeconds"] >= 15  # preStop + the bot's 10 s
    for item in container["env"]:
        if item["name"] in SECRET_VARS or item["name"] in ("FRONTDOOR_REDIS_URL", "FRONTDOOR_OUTBOX_URL"):
            assert "value" not in item and "secretKeyRef" in item["valueFrom"], item["name"]
    assert all(d["kind"] != "Secret" for _, d in manifests())
    config = next(d for _, d in manifests() if d["kind"] == "ConfigMap")
    assert not SECRET_VARS & set(config["data"])


# --- compose ------------------------------------------------------------------------


def test_compose_keeps_redis_off_disk_and_secrets_out():
    compose = yaml.load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == {"bot", "redis", "postgres"}
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--save") + 1] == "" and command[command.index("--appendonly") + 1] == "no"
    assert "volumes" not in compose["services"]["redis"]
    for service in compose["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if name in SECRET_VARS or "PASSWORD" in name:
                assert str(value).startswith("${") and ":?" in str(value), name
    assert compose["services"]["bot"]["build"]["dockerfile"] == "deploy/Dockerfile"


# --- systemd ------------------------------------------------------------------------


def test_systemd_unit_verifies(tmp_path):
    analyze = tool("systemd-analyze")
    frontdoor = ROOT / ".venv" / "bin" / "frontdoor"
    unit = (DEPLOY / "systemd" / "frontdoor.service").read_text().replace("/opt/frontdoor/bin/frontdoor", str(frontdoor))
    (tmp_path / "frontdoor.service").write_text(unit)
    result = run(analyze, "verify", str(tmp_path / "frontdoor.service"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KillSignal=SIGTERM" in unit and "TimeoutStopSec=15" in unit


# --- Dockerfile ---------------------------------------------------------------------


def test_hadolint_accepts_the_dockerfile():
    result = run(tool("hadolint"), str(DEPLOY / "Dockerfile"))
    assert result.returncode == 0, result.stdout + result.stderr

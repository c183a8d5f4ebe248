"""deploy/kubernetes: the kustomization renders with kubectl, every object is valid against the
schemas of a pinned Kubernetes version, and its limits are the service's own."""

import math
import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT
from digits.service.config import SETTINGS

KUBERNETES_VERSION = "1.32"  # the cluster version the manifests are validated against
GUNICORN_VARIABLES = {"WEB_CONCURRENCY", "PORT", "HOST", "LOG_LEVEL"}


@pytest.fixture(scope="module")
def rendered():
    """{kind: object} of `kubectl kustomize deploy/kubernetes`, what `kubectl apply -k` takes."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("CI must render the Kubernetes manifests: kubectl is missing")
        pytest.skip("kubectl is not installed")
    output = subprocess.run([kubectl, "kustomize", str(ROOT / "deploy" / "kubernetes")],
                            capture_output=True, text=True, check=True, timeout=60).stdout
    return {document["kind"]: document for document in yaml.safe_load_all(output)}


def nginx_setting(name):
    """The value deploy/nginx/digits.conf gives a directive."""
    site = (ROOT / "deploy" / "nginx" / "digits.conf").read_text()
    return re.search(rf"^\s*{name}\s+([^;]+);", site, re.M)[1]


def nginx_seconds(value):
    """An nginx time ("250ms", "30s", "30") in seconds."""
    number, unit = re.fullmatch(r"(\d+)(ms|s)?", value).groups()
    return int(number) / (1000 if unit == "ms" else 1)


def test_the_kustomization_holds_what_a_deploy_needs(rendered):
    assert set(rendered) == {"ConfigMap", "Secret", "Deployment", "Service",
                             "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress"}


@pytest.mark.parametrize("kind", ["ConfigMap", "Secret", "Deployment", "Service",
                                  "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress"])
def test_each_object_is_valid_for_the_pinned_kubernetes_version(rendered, kind):
    import kubernetes_validate
    kubernetes_validate.validate(rendered[kind], KUBERNETES_VERSION, strict=True)


def test_the_pods_are_probed_on_health_sized_and_unprivileged(rendered):
    pod = rendered["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    limits, requests = container["resources"]["limits"], container["resources"]["requests"]
    # bench/memory.py holds the tree's peak under 300 MB; the limit is the 512 MB box
    assert limits["memory"] == "512Mi" and 300 <= int(requests["memory"].removesuffix("Mi"))
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] > 0
    assert container["securityContext"]["readOnlyRootFilesystem"]
    assert {mount["mountPath"] for mount in container["volumeMounts"]} == {"/tmp", "/dev/shm"}


def test_termination_leaves_gunicorn_its_graceful_timeout_after_the_pre_stop_pause(rendered):
    pod = rendered["Deployment"]["spec"]["template"]["spec"]
    graceful = int(re.search(r"^graceful_timeout = (\d+)",
                             (ROOT / "gunicorn.conf.py").read_text(), re.M)[1])
    pause = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] >= pause + graceful
    assert rendered["Deployment"]["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_service_autoscaler_and_disruption_budget_find_the_deployment_s_pods(rendered):
    labels = rendered["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert rendered["Service"]["spec"]["selector"].items() <= labels.items()
    budget = rendered["PodDisruptionBudget"]["spec"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()
    assert budget["minAvailable"] < rendered["Deployment"]["spec"]["replicas"]
    target = rendered["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "digits")


def test_the_ingress_carries_the_nginx_site_s_body_size_and_timeouts(rendered):
    annotations = rendered["Ingress"]["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert annotations[prefix + "proxy-body-size"] == nginx_setting("client_max_body_size")
    # ingress-nginx takes whole seconds: the site's time, rounded up (its 250 ms connect: 1)
    for annotation, directive in [("client-body-timeout", "client_body_timeout"),
                                  ("proxy-connect-timeout", "proxy_connect_timeout"),
                                  ("proxy-read-timeout", "proxy_read_timeout")]:
        assert int(annotations[prefix + annotation]) == math.ceil(
            nginx_seconds(nginx_setting(directive))), annotation
    assert annotations[prefix + "proxy-request-buffering"] == nginx_setting(
        "proxy_request_buffering")


def test_the_settings_are_the_service_s_own(rendered):
    names = {*rendered["ConfigMap"]["data"], *rendered["Secret"]["stringData"]}
    assert names <= {f"DIGITS_{name}" for name in SETTINGS} | GUNICORN_VARIABLES
    assert rendered["Secret"]["stringData"]["DIGITS_DATABASE_URL"].startswith("postgresql://")
    assert rendered["ConfigMap"]["data"]["DIGITS_RATE_LIMIT_STORAGE"].startswith("redis://")

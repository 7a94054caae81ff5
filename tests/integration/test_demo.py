"""make demo: the seed's whole story on the local cluster, and a second run that changes nothing."""

import base64
import json
import os
import re
import subprocess

from helpers.baseline import seeded_cluster_config
from helpers.runner import REPO, assert_no_leak, register_secret

register_secret("demo-password-not-secret", "demo-legacy-password-not-secret", "demo-fingerprint-key-not-secret")
GLOBAL = "/api/v1/namespaces/openshift-config/secrets/pull-secret"


def recap(output):
    return re.search(r"^localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output, re.M).groups()


def test_make_demo_twice(api, cluster):
    env = dict(os.environ, CLUSTER_DIR=cluster.dir)
    with seeded_cluster_config(api, cluster):
        first = subprocess.run(["make", "-s", "demo"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
        second = subprocess.run(["make", "-s", "demo"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
        assert second.returncode == 0, second.stdout[-3000:]
        assert recap(second.stdout)[1:] == ("0", "0", "0"), "the second demo changed something"
        for run in (first, second):
            assert_no_leak(run.stdout + run.stderr)
            assert "== Demo summary ==" in run.stdout

        # the story, as the server holds it
        sa = api.get("/api/v1/namespaces/project-a/serviceaccounts/default")
        names = [r["name"] for r in sa.get("imagePullSecrets") or []]
        assert "private-registry" in names and "redhat-connect-sso" in names
        assert api.get("/api/v1/namespaces/project-a/secrets/legacy-registry")["type"] == "kubernetes.io/dockercfg"
        assert api.can_i("get", "imagestreams", "project-b", group="image.openshift.io", subresource="layers",
                         user="system:serviceaccount:project-a:builder",
                         groups=["system:serviceaccounts", "system:serviceaccounts:project-a"])
        auths = json.loads(base64.b64decode(api.get(GLOBAL)["data"][".dockerconfigjson"]))["auths"]
        assert "quay.io/repository-main" in auths and "cloud.openshift.com" in auths
        with open(os.path.join(REPO, "reports", "registry-access-localhost.json")) as f:
            report = f.read()
        assert_no_leak(report)
        assert "privateregistry.example.com" in report

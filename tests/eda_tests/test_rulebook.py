"""The shipped rulebook (ocp.registry_access.watch_and_enforce) run by a real ansible-rulebook on the local cluster.

One rulebook process for the module, watching only namespaces labelled eda-test=<this run's label>, so
other suites' namespaces never reach it. Assertions are on the server's objects and the audit log.
"""

import base64
import json
import subprocess
import sys

import pytest

from eda_rulebook import SECRET, declaration, wait_until
from helpers.kube import unique
from helpers.runner import REPO, register_secret

AGENT = "ocp.registry_access"


def secret_path(namespace):
    return "/api/v1/namespaces/%s/secrets/%s" % (namespace, SECRET)


def sa_path(namespace, name="default"):
    return "/api/v1/namespaces/%s/serviceaccounts/%s" % (namespace, name)


def linked(api, namespace, name="default"):
    """The service account if it exists, links the managed secret and the secret exists, else None."""
    sa = api.get_or_none(sa_path(namespace, name))
    secret = api.get_or_none(secret_path(namespace))
    if sa and secret and {"name": SECRET} in (sa.get("imagePullSecrets") or []):
        return sa
    return None


def puller_binding(api, namespace, label):
    group = "eda-pullers-%s" % label
    for binding in api.get("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % namespace)["items"]:
        if binding["roleRef"]["name"] == "system:image-puller" and \
                any(s.get("name") == group for s in binding.get("subjects") or []):
            return binding
    return None


def create_namespace(api, prefix, labels=None):
    name = unique(prefix)
    api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": name, "labels": labels or {}}})
    return name


@pytest.fixture(scope="module")
def namespaces(api):
    created = []
    yield created
    for name in created:
        api.delete("/api/v1/namespaces/" + name)


@pytest.fixture(scope="module")
def eda(cluster, api, label, start_rulebook, namespaces, tmp_path_factory):
    """The rulebook, started once its image namespace exists; returns after the startup full reconcile."""
    images = create_namespace(api, "eda-images", {"eda-test": label, "eda-images": label})
    namespaces.append(images)
    api.settle_namespace(images)
    path = declaration(label, tmp_path_factory.mktemp("declaration") / "registry-access.yml")
    rulebook = start_rulebook(cluster.kubeconfig, {"registry_access_declaration": path,
                                                   "registry_access_namespace_selector": "eda-test=%s" % label})
    rulebook.wait_for_runs(1, timeout=180)
    assert "failed=0" in rulebook.output, rulebook.output[-4000:]
    # the startup event is a full reconcile: what existed before the rulebook started is enforced too
    assert "full reconcile" in rulebook.output
    assert linked(api, images) and puller_binding(api, images, label)
    rulebook.images = images
    return rulebook


def test_new_labelled_namespace_gets_its_secret_and_link(eda, api, audit, label, namespaces):
    start = eda.runs()
    with audit.capture() as capture:
        name = create_namespace(api, "eda-new", {"eda-test": label})
        other = create_namespace(api, "eda-other")  # not selected: never touched
        namespaces.extend([name, other])
        wait_until(lambda: linked(api, name), 120, what="secret and link in %s" % name)
        # the namespace and its default service account may come in two batches, but the collection's
        # own writes start no run: the rulebook settles
        runs = eda.settle(quiet=6)
    secret = api.get(secret_path(name))
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ocp.registry_access"
    assert list(json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]) == ["eda.registry.example.com"]
    writes = capture.writes(namespaces=[name, other], user_agent_prefix=AGENT)
    assert sorted((e.verb, e.resource, e.namespace, e.name) for e in writes) == sorted([
        ("create", "secrets", name, SECRET), ("update", "serviceaccounts", name, "default")]), capture.summary(writes)
    assert start < runs <= start + 2, "a write of the collection started another run"


def test_service_account_unlinked_or_new_is_linked(eda, api, label, namespaces):
    name = create_namespace(api, "eda-sa", {"eda-test": label})
    namespaces.append(name)
    first = wait_until(lambda: linked(api, name), 120, what="first link")
    # someone unlinks the secret
    first["imagePullSecrets"] = [ref for ref in first["imagePullSecrets"] if ref["name"] != SECRET]
    api.replace(sa_path(name), first)
    wait_until(lambda: linked(api, name), 60, what="link restored after an unlink")
    # a new service account: default deleted, the controller manager creates a new one, without links
    uid = api.get(sa_path(name))["metadata"]["uid"]
    api.delete(sa_path(name))

    def new_one_linked():
        sa = linked(api, name)
        return sa if sa and sa["metadata"]["uid"] != uid else None

    wait_until(new_one_linked, 90, what="the new default service account linked")


def test_deleted_managed_secret_and_binding_come_back(eda, api, audit, label, namespaces):
    name = create_namespace(api, "eda-drift", {"eda-test": label})
    namespaces.append(name)
    wait_until(lambda: linked(api, name), 120, what="first enforcement")
    with audit.capture() as capture:
        uid = api.get(secret_path(name))["metadata"]["uid"]
        api.delete(secret_path(name))
        back = wait_until(lambda: api.get_or_none(secret_path(name)), 60, what="the secret back")
        binding = puller_binding(api, eda.images, label)
        api.delete("/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings/%s"
                   % (eda.images, binding["metadata"]["name"]))
        wait_until(lambda: puller_binding(api, eda.images, label), 60, what="the binding back")
    assert back["metadata"]["uid"] != uid
    creates = [(e.resource, e.namespace) for e in capture.writes(user_agent_prefix=AGENT) if e.verb == "create"]
    assert ("secrets", name) in creates and ("rolebindings", eda.images) in creates, capture.summary()


def test_unmanaged_secret_of_the_same_name_is_reported_not_overwritten(eda, api, audit, label, namespaces):
    """pull_secret's default unmanaged: fail (issue #20): the run fails naming it, and nothing is written to it."""
    name = create_namespace(api, "eda-theirs")
    namespaces.append(name)
    api.settle_namespace(name)
    theirs = register_secret("someone-elses-pass-77aa")
    config = {"auths": {"other.example.com": {"auth": base64.b64encode(b"them:" + theirs.encode()).decode()}}}
    before = api.create("/api/v1/namespaces/%s/secrets" % name, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET}, "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}})
    runs = eda.settle(quiet=2)
    with audit.capture() as capture:
        api.patch("/api/v1/namespaces/" + name, {"metadata": {"labels": {"eda-test": label}}})
        eda.wait_for_runs(runs + 1, timeout=120)
    after = api.get(secret_path(name))
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["data"] == before["data"] and "app.kubernetes.io/managed-by" not in (after["metadata"].get("labels") or {})
    assert capture.writes(namespaces=[name], resource="secrets", user_agent_prefix=AGENT) == []
    run = eda.output.split("PLAY RECAP")[-2] + eda.output.split("PLAY RECAP")[-1].split("\n", 2)[1]
    # reported: the run fails, naming the namespace and the option that would change the outcome
    assert "failed=1" in run and "unmanaged" in run and name in run.split("PLAY [Enforce registry access]")[-1], run[-3000:]
    assert theirs not in eda.output


def test_source_needs_only_its_read_only_rbac(cluster, api, namespaces):
    """The source runs on a token bound to rbac/eda-source-clusterrole.yaml only (the startup event comes)."""
    from cluster import build
    ns = create_namespace(api, "eda-rbac")
    namespaces.append(ns)
    api.settle_namespace(ns)
    kubectl = [build() + "/kubectl", "--kubeconfig", cluster.kubeconfig]
    subprocess.run(kubectl + ["apply", "-f", REPO + "/rbac/eda-source-clusterrole.yaml"], check=True, capture_output=True)
    api.create("/api/v1/namespaces/%s/serviceaccounts" % ns, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                              "metadata": {"name": "eda"}})
    binding = "eda-source-" + ns
    api.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": binding},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ocp-registry-access-eda-source"},
        "subjects": [{"kind": "ServiceAccount", "name": "eda", "namespace": ns}]})
    token = register_secret(api.token_for(ns, "eda"))
    try:
        source = REPO + "/.build/collections/ansible_collections/ocp/registry_access/extensions/eda/plugins/event_source/watch.py"
        args = json.dumps({"host": cluster.server, "api_key": token, "ca_cert": cluster.ca_cert, "namespace_selector": "kubernetes.io/metadata.name=%s" % ns})
        proc = subprocess.Popen([sys.executable, source, args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
        finally:
            proc.kill()
            stderr = proc.communicate()[1]
        assert json.loads(line)["registry_access"] == {"full": True, "namespaces": [ns], "reasons": {ns: ["startup"]},
                                                       "namespace_labels": {ns: {"kubernetes.io/metadata.name": ns}}}, stderr
        assert token not in line + stderr
    finally:
        api.delete("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/" + binding)


BAD = [
    ({"K8S_AUTH_KUBECONFIG": "/nonexistent/kubeconfig"}, {}, "kubeconfig /nonexistent/kubeconfig does not exist"),
    ({}, {"registry_access_namespace_selector": "team in prod"}, "invalid label selector"),
    ({}, {"registry_access_eda_delay": "soon"}, "delay"),
    ({}, {"registry_access_eda_delay": 10, "registry_access_eda_max_delay": 1}, "quiet"),
]


@pytest.mark.parametrize("env, variables, message", BAD, ids=["no-kubeconfig", "bad-selector", "bad-delay", "bad-window"])
def test_bad_configuration_is_one_clear_error_and_a_non_zero_exit(cluster, start_rulebook, tmp_path, env, variables, message):
    variables = dict(variables, registry_access_declaration=str(tmp_path / "none.yml"))
    rulebook = start_rulebook(cluster.kubeconfig, variables, env)
    assert rulebook.wait_exit(90) != 0
    assert message in rulebook.output and "Traceback" not in rulebook.output, rulebook.output[-3000:]
    assert rulebook.runs() == 0


def test_identity_without_rights_is_one_clear_error(cluster, api, start_rulebook, tmp_path, namespaces):
    ns = create_namespace(api, "eda-norights")
    namespaces.append(ns)
    api.settle_namespace(ns)
    token = register_secret(api.token_for(ns, "default"))
    rulebook = start_rulebook(cluster.kubeconfig, {"registry_access_declaration": str(tmp_path / "none.yml")},
                              {"K8S_AUTH_KUBECONFIG": None, "K8S_AUTH_HOST": cluster.server, "K8S_AUTH_API_KEY": token,
                               "K8S_AUTH_CA_CERT": cluster.ca_cert})
    assert rulebook.wait_exit(90) != 0
    out = rulebook.output
    assert "cannot list namespaces" in out and "403" in out and "rbac/eda-source-clusterrole.yaml" in out, out[-3000:]
    assert token not in out

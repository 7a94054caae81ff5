"""Security and failure paths on the real local cluster (issue 14, items 1, 2, 3, 4, 7):

- a kubeconfig given as a dict shows none of its secrets, whatever the user and the auth kind, at -vvvv;
- an admission webhook that echoes the Secret (its data, the base64 of the whole document) leaves no decodable
  credential in the module's failure;
- fingerprints are keyed: not the unsalted sha256 a reader could test guesses against, comparable within a run,
  stable across runs only with the same fingerprint_key;
- a failure after a write (verify) still reports what was written;
- the hosted control plane guard holds when openshift-config/pull-secret is named explicitly;
- absent of a grant that a binding the module does not manage still gives says that access remains.

Every run goes through helpers.runner.run_module, which scans all its output for every registered credential (raw,
JSON-escaped, base64 at any alignment).
"""

import base64
import hashlib
import hmac
import http.server
import json
import ssl
import subprocess
import threading
import time

import pytest

from helpers.baseline import seeded_cluster_config
from helpers.kube import unique
from helpers.runner import register_secret, run_module

RBAC = "/apis/rbac.authorization.k8s.io/v1"
INFRASTRUCTURE_STATUS = "/apis/config.openshift.io/v1/infrastructures/cluster/status"

PASSWORD = register_secret("fake-sec-registry-pass-<&>-6b1e")
GLOBAL_PASSWORD = register_secret("fake-sec-global-pass-93d0")
OTHER_PASSWORD = register_secret("fake-sec-other-pass-2f7c")

# every secret a kubeconfig dict can carry, for users other than the current one too
KUBECONFIG_SECRETS = dict(
    token=register_secret("fake-kc-other-user-token-11aa"),
    password=register_secret("fake-kc-basic-password-22bb"),
    key_data=register_secret(base64.b64encode(b"fake-kc-client-key-data-33cc").decode()),
    cert_data=register_secret(base64.b64encode(b"fake-kc-client-cert-data-44dd").decode()),
    id_token=register_secret("fake-kc-oidc-id-token-55ee"),
    refresh_token=register_secret("fake-kc-oidc-refresh-token-66ff"),
    client_secret=register_secret("fake-kc-oidc-client-secret-7700"),
    access_token=register_secret("fake-kc-oidc-access-token-8811"),
    exec_env=register_secret("fake-kc-exec-env-secret-9922"),
    exec_arg=register_secret("fake-kc-exec-arg-token-aa33"),
    proxy_url=register_secret("fake-kc-proxy-url-pass-bb44"),
    proxy_option=register_secret("fake-kc-proxy-option-pass-cc55"),
)


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def dockerconfig(server, username, password):
    return b64(json.dumps({"auths": {server: {"username": username, "password": password,
                                              "auth": b64("%s:%s" % (username, password))}}}))


def pull_secret_object(name, server, username, password):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": dockerconfig(server, username, password)}}


# -- 1. kubeconfig dict ---------------------------------------------------------------------------------------

def kubeconfig_with_every_auth_kind(cluster, current="admin"):
    """The cluster's kubeconfig as a dict, with a user of each auth kind besides the working one."""
    with open(cluster.kubeconfig) as f:
        config = json.load(f)
    s = KUBECONFIG_SECRETS
    config["users"] += [
        {"name": "basic", "user": {"username": "kc-basic", "password": s["password"]}},
        {"name": "token", "user": {"token": s["token"]}},
        {"name": "cert", "user": {"client-certificate-data": s["cert_data"], "client-key-data": s["key_data"]}},
        {"name": "oidc", "user": {"auth-provider": {"name": "oidc", "config": {
            "client-id": "kc-client", "client-secret": s["client_secret"], "id-token": s["id_token"],
            "refresh-token": s["refresh_token"], "access-token": s["access_token"],
            "idp-issuer-url": "https://issuer.example.com"}}}},
        {"name": "exec", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": "/nonexistent/kc-credential-helper",
            "args": ["--token=" + s["exec_arg"]], "interactiveMode": "Never",
            "env": [{"name": "HELPER_SECRET", "value": s["exec_env"]}]}}},
    ]
    cluster_entry = dict(config["clusters"][0])
    cluster_entry["name"] = "behind-proxy"
    cluster_entry["cluster"] = dict(cluster_entry["cluster"], **{"proxy-url": "http://kc:%s@127.0.0.1:9" % s["proxy_url"]})
    config["clusters"].append(cluster_entry)
    for user in ("basic", "token", "cert", "oidc", "exec"):
        config["contexts"].append({"name": user, "context": {"cluster": "behind-proxy", "user": user}})
    config["current-context"] = next(c["name"] for c in config["contexts"] if c["context"]["user"] == current) \
        if current != "admin" else config["current-context"]
    return config


def test_kubeconfig_dict_shows_no_secret_of_any_user_at_vvvv(cluster, namespace):
    kubeconfig = kubeconfig_with_every_auth_kind(cluster)
    args = dict(kubeconfig=kubeconfig, namespace=namespace, include_global=False,
                proxy="http://proxy-user:%s@127.0.0.1:9" % KUBECONFIG_SECRETS["proxy_option"], no_proxy="127.0.0.1")
    # run_module fails the test if any of the kubeconfig's secrets shows up anywhere (module_args at -vvvv too)
    run = run_module("registry_access_info", args, verbosity=4)
    assert not run.failed, run.msg
    assert [ns["name"] for ns in run.result["namespaces"]] == [namespace]
    assert "kc-basic" in run.output  # the module args are printed, only the secrets in them are masked


@pytest.mark.parametrize("current", ["exec", "oidc"])
def test_kubeconfig_dict_whose_current_user_cannot_log_in_fails_without_a_secret(cluster, namespace, current):
    run = run_module("registry_access_info", dict(kubeconfig=kubeconfig_with_every_auth_kind(cluster, current),
                                                  namespace=namespace, include_global=False), verbosity=4)
    assert run.failed and run.msg
    assert "Traceback" not in run.output


# -- 2. an admission webhook that echoes the Secret -------------------------------------------------------------

class EchoWebhook(object):
    """A validating admission webhook on 127.0.0.1 that denies Secret writes and quotes the object's data back,
    as policy engines do ("denied: data: {...}"); registered for one namespace only."""

    def __init__(self, api, tmp_path, namespace):
        self.api, self.namespace = api, namespace
        self.name = unique("echo-webhook") + ".example.com"
        key, cert = str(tmp_path / "webhook.key"), str(tmp_path / "webhook.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        handler = self._handler()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        with open(cert, "rb") as f:
            self.ca_bundle = base64.b64encode(f.read()).decode()
        self.denied = []

    def _handler(self):
        webhook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the name http.server calls
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                request = review["request"]
                data = (request.get("object") or {}).get("data") or {}
                webhook.denied.append(request["operation"])
                body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {
                    "uid": request["uid"], "allowed": False,
                    "status": {"code": 403, "message": "policy denied the Secret: data: %s" % json.dumps(data)}}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        self.thread.start()
        self.api.create("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", {
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": self.name},
            "webhooks": [{
                "name": self.name, "admissionReviewVersions": ["v1"], "sideEffects": "None", "timeoutSeconds": 5,
                "failurePolicy": "Fail",
                "clientConfig": {"url": "https://127.0.0.1:%d/validate" % self.server.server_address[1],
                                 "caBundle": self.ca_bundle},
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": self.namespace}},
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                           "resources": ["secrets"], "scope": "Namespaced"}]}]})
        return self

    def __exit__(self, *exc):
        self.api.delete("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/" + self.name)
        self.server.shutdown()
        self.server.server_close()


def wait_for_webhook(api, namespace, webhook):
    """The API server picks a new webhook configuration up within a moment: write until it answers."""
    deadline = time.time() + 30
    probe = pull_secret_object("probe", "probe.example.com", "probe", "probe")
    while time.time() < deadline:
        status, _body = api.raw("POST", "/api/v1/namespaces/%s/secrets" % namespace, probe)
        if status == 403 and webhook.denied:
            return
        if status in (200, 201):
            api.delete("/api/v1/namespaces/%s/secrets/probe" % namespace)
        time.sleep(0.5)
    raise AssertionError("the webhook never answered")


@pytest.fixture
def echo_webhook(api, namespace, tmp_path):
    with EchoWebhook(api, tmp_path, namespace) as webhook:
        wait_for_webhook(api, namespace, webhook)
        yield webhook


def test_webhook_echoing_the_whole_document_leaves_no_credential_in_pull_secret_failure(
        connection, namespace, echo_webhook):
    registries = [{"server": "registry.example.com", "username": "robot", "password": PASSWORD},
                  {"server": "quay.io/org", "username": "other", "password": OTHER_PASSWORD}]
    for verbosity in (0, 4):
        run = run_module("pull_secret", dict(connection, name="echoed", namespace=namespace, registries=registries),
                         verbosity=verbosity)
        assert run.failed and "policy denied the Secret" in run.msg, run.msg
        assert '".dockerconfigjson"' in run.msg  # the webhook's message is shown, its document masked


def test_webhook_echoing_the_whole_document_leaves_no_credential_in_global_pull_secret_failure(
        api, connection, namespace, tmp_path):
    # the node-wide document under another name (as on a hosted control plane), with an entry of others in it
    api.create("/api/v1/namespaces/%s/secrets" % namespace,
               pull_secret_object("additional-pull-secret", "mirror.example.com", "mirror", OTHER_PASSWORD))
    with EchoWebhook(api, tmp_path, namespace) as webhook:
        wait_for_webhook(api, namespace, webhook)
        run = run_module("global_pull_secret", dict(connection, namespace=namespace, name="additional-pull-secret",
                                                    registries=[{"server": "registry.example.com", "username": "robot",
                                                                 "password": GLOBAL_PASSWORD}]), verbosity=4)
    assert run.failed and "policy denied the Secret" in run.msg, run.msg
    assert "UPDATE" in webhook.denied


# -- 3. keyed fingerprints ---------------------------------------------------------------------------------------

def unsalted(username, password):
    canonical = json.dumps({"email": None, "identitytoken": None, "password": password, "username": username},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def keyed(key, username, password):
    canonical = json.dumps({"email": None, "identitytoken": None, "password": password, "username": username},
                           sort_keys=True, separators=(",", ":"))
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()[:12]


def entry_fingerprints(run):
    return {(ns["name"], s["name"]): [r["fingerprint"] for r in s["registries"]]
            for ns in run.result["namespaces"] for s in ns["pull_secrets"]}


def test_fingerprints_are_keyed_per_run_or_by_fingerprint_key(api, connection, namespace_factory):
    a, b = namespace_factory("fp-a"), namespace_factory("fp-b")
    for ns in (a, b):
        api.create("/api/v1/namespaces/%s/secrets" % ns, pull_secret_object("same", "registry.example.com", "robot", PASSWORD))
    api.create("/api/v1/namespaces/%s/secrets" % b, pull_secret_object("other", "registry.example.com", "robot", OTHER_PASSWORD))
    args = dict(connection, namespaces=[a, b], include_global=False)

    first, second = run_module("registry_access_info", args), run_module("registry_access_info", args)
    for run in (first, second):
        prints = entry_fingerprints(run)
        # within one result: the same credential, the same fingerprint; another credential, another one
        assert prints[(a, "same")] == prints[(b, "same")] != prints[(b, "other")]
        # never what anyone can compute from a guessed password
        assert prints[(a, "same")] != [unsalted("robot", PASSWORD)]
    # a random key per run: nothing to compare across runs, nothing to guess against
    assert entry_fingerprints(first)[(a, "same")] != entry_fingerprints(second)[(a, "same")]

    key = register_secret("fake-sec-fingerprint-key-0a1b2c3d4e5f60718293a4b5c6d7e8f9")
    with_key = [run_module("registry_access_info", dict(args, fingerprint_key=key), verbosity=4),
                run_module("registry_access_info", args, env={"OCP_REGISTRY_ACCESS_FINGERPRINT_KEY": key})]
    for run in with_key:
        assert entry_fingerprints(run)[(a, "same")] == [keyed(key, "robot", PASSWORD)]

    # pull_secret takes the same key: the same document, the same fingerprint (check mode: nothing is written)
    run = run_module("pull_secret", dict(connection, name="same", namespace=a, fingerprint_key=key, unmanaged="adopt",
                                         registries=[{"server": "registry.example.com", "username": "robot",
                                                      "password": PASSWORD}]), check=True)
    assert not run.failed, run.msg
    assert run.result["secrets"][0]["fingerprint"] == with_key[0].result["namespaces"][0]["pull_secrets"][0]["fingerprint"]


# -- 4. a failure after a write reports the write ------------------------------------------------------------

def test_verify_failing_after_the_write_reports_changed_and_the_bindings(api, cluster, namespace_factory):
    """A project admin without the review right (a Role made for the test): the binding is written, verify is
    refused, and the failure still says changed with the binding it wrote."""
    a, b = namespace_factory("v-a", wait_for_default_sa=True), namespace_factory("v-b")
    bot = "verify-bot"
    api.create("/api/v1/namespaces/%s/serviceaccounts" % b, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                             "metadata": {"name": bot}})
    api.create("%s/namespaces/%s/roles" % (RBAC, b), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": bot},
        "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
                  {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"],
                   "verbs": ["list", "create", "update", "delete"]},
                  {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"],
                   "resourceNames": ["system:image-puller"]}]})
    api.create("%s/namespaces/%s/rolebindings" % (RBAC, b), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": bot},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": bot},
        "subjects": [{"kind": "ServiceAccount", "name": bot, "namespace": b}]})
    token = register_secret(api.token_for(b, bot))
    args = dict(host=cluster.server, api_key=token, ca_cert=cluster.ca_cert, namespace=b,
                service_accounts=["%s:default" % a], verify=True)
    run = run_module("image_puller_binding", args)
    assert run.failed and "localsubjectaccessreviews" in run.msg and "cannot verify" in run.msg, run.msg
    assert run.changed
    assert [(x["namespace"], x["name"], x["action"]) for x in run.result["bindings"]] == [(b, "system:image-puller", "created")]
    assert api.get("%s/namespaces/%s/rolebindings/system:image-puller" % (RBAC, b))["subjects"] == [
        {"kind": "ServiceAccount", "name": "default", "namespace": a}]


# -- 7. guards ---------------------------------------------------------------------------------------------------

@pytest.fixture
def hosted_control_plane(api, cluster):
    """Infrastructure cluster reports controlPlaneTopology External (as on HyperShift), the seeded state restored after."""
    with seeded_cluster_config(api, cluster) as seeded:
        api.patch(INFRASTRUCTURE_STATUS, {"status": {"controlPlaneTopology": "External"}})
        yield seeded


@pytest.mark.parametrize("target", [dict(namespace="openshift-config"), dict(name="pull-secret"),
                                    dict(namespace="openshift-config", name="pull-secret")],
                         ids=["namespace", "name", "both"])
def test_naming_the_default_pull_secret_keeps_the_hosted_control_plane_guard(
        api, audit, connection, hosted_control_plane, target):
    with audit.capture() as seen:
        run = run_module("global_pull_secret", dict(connection, registries=[
            {"server": "registry.example.com", "username": "robot", "password": GLOBAL_PASSWORD}], **target))
    assert run.failed and "controlPlaneTopology: External" in run.msg and "nothing was changed" in run.msg, run.msg
    assert not run.changed
    assert seen.writes(namespaces=["openshift-config"], user_agent_prefix="ocp.registry_access/") == []
    assert api.get("/api/v1/namespaces/openshift-config/secrets/pull-secret")["data"] == hosted_control_plane["data"]


def image_pullers_binding(namespace):
    """The binding OpenShift's default-rolebindings controller makes in every project."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "system:image-pullers"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                          "name": "system:serviceaccounts:" + namespace}]}


def test_absent_of_a_grant_openshift_also_gives_warns_that_access_remains(api, audit, connection, namespace_factory):
    b = namespace_factory("remain-b", wait_for_default_sa=True)
    api.create("%s/namespaces/%s/rolebindings" % (RBAC, b), image_pullers_binding(b))
    args = dict(connection, namespace=b, service_accounts=["%s:default" % b], state="absent", verify=True)
    with audit.capture() as seen:
        run = run_module("image_puller_binding", args)
    assert not run.failed, run.msg
    assert not run.changed
    assert [e for e in seen.writes(namespaces=[b], user_agent_prefix="ocp.registry_access/")
            if e.resource != "localsubjectaccessreviews"] == []  # reviews are questions, not writes
    sa = "system:serviceaccount:%s:default" % b
    assert run.result["access_remains"] == [dict(namespace=b, subject=sa, binding="system:image-pullers",
                                                 through="group:system:serviceaccounts:%s" % b)]
    [check] = run.result["verification"]
    assert check["allowed"] and check["ok"] and check["access_remains"], check
    assert "system:image-pullers" in check["note"] and "does not manage" in check["note"]
    warnings = " ".join(run.result.get("warnings") or [])
    assert "access remains" in warnings and "system:image-pullers" in warnings and sa in warnings, warnings

    # without verify the module still says so, from the bindings it read
    run = run_module("image_puller_binding", dict(args, verify=False))
    assert run.result["access_remains"] and "access remains" in " ".join(run.result.get("warnings") or [])


def test_absent_leaves_a_group_grant_it_does_not_manage_and_says_so(api, connection, namespace_factory):
    a, b = namespace_factory("remain-a", wait_for_default_sa=True), namespace_factory("remain-b")
    run = run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a]))
    assert run.changed and not run.failed, run.msg
    # someone binds every service account of a by hand, under another name, to the same role
    by_hand = image_pullers_binding(a)
    by_hand["metadata"]["name"] = "team-a-pullers"
    api.create("%s/namespaces/%s/rolebindings" % (RBAC, b), by_hand)
    # remove the service account: the module's binding goes, the group binding keeps giving access
    run = run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a],
                                                  state="absent", verify=True))
    assert not run.failed, run.msg
    assert [(x["name"], x["action"]) for x in run.result["bindings"]] == [("system:image-puller", "deleted")]
    assert [(r["binding"], r["through"]) for r in run.result["access_remains"]] == [
        ("team-a-pullers", "group:system:serviceaccounts:%s" % a)]
    [check] = run.result["verification"]
    assert check["allowed"] and check["ok"] and check["access_remains"] and "team-a-pullers" in check["note"]
    assert "access remains" in " ".join(run.result.get("warnings") or [])


def test_absent_that_takes_every_grant_away_reports_no_remaining_access(api, connection, namespace_factory):
    a, b = namespace_factory("gone-a", wait_for_default_sa=True), namespace_factory("gone-b")
    api.create("%s/namespaces/%s/rolebindings" % (RBAC, b), image_pullers_binding(b))  # b's own, not a's
    assert run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a])).changed
    run = run_module("image_puller_binding", dict(connection, namespace=b, service_accounts=["%s:default" % a],
                                                  state="absent", verify=True))
    assert run.changed and not run.failed, run.msg
    assert run.result["access_remains"] == []
    assert [(c["allowed"], c["access_remains"], c["note"]) for c in run.result["verification"]] == [(False, False, None)]
    assert not any("access remains" in w for w in run.result.get("warnings") or [])


def test_ca_that_does_not_sign_the_api_server_fails_at_once_in_one_line(cluster, namespace, tmp_path):
    """A certificate verification failure is the same on every attempt: the module says what is wrong and which
    options to change, without the six retries (whose backoff alone takes over 3 s) a dropped connection gets."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(tmp_path / "other-ca.key"), "-out", str(tmp_path / "other-ca.crt"), "-days", "1",
                    "-subj", "/CN=a CA that did not sign the API server",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   check=True, capture_output=True)
    args = dict(host=cluster.server, api_key=register_secret(cluster.admin_token), ca_cert=str(tmp_path / "other-ca.crt"),
                namespace=namespace, include_global=False)
    started = time.monotonic()
    run = run_module("registry_access_info", args)
    elapsed = time.monotonic() - started
    assert run.failed
    assert run.msg.endswith("the API server certificate at %s failed verification: unable to get local issuer "
                            "certificate; set ca_cert to the CA that signed it, or validate_certs to false to skip "
                            "verification" % cluster.server), run.msg
    assert "\n" not in run.msg and "attempts" not in run.msg
    assert elapsed < 3.0, "%.1f s: retried?" % elapsed

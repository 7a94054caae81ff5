"""registry_access_info against the real local cluster: pull secrets, service account links and image
pullers reported without a credential, problems flagged, the global pull secret (readable, missing,
forbidden), can_pull answered by the API server, and proof from the audit log that it only reads."""

import base64
import json

import pytest

from ansible_collections.ocp.registry_access.plugins.module_utils import _dockerconfig as dc
from helpers.baseline import seeded_cluster_config
from helpers.kube import unique
from helpers.oracles import ContainersImageOracle, KubeletOracle
from helpers.runner import register_secret, run_module

PASSWORD = register_secret("fake-info-pass-5d7e<&>")
OTHER_PASSWORD = register_secret("fake-info-pass-other-a41c")
TOKEN = register_secret("fake-info-identitytoken-77b0")
MODULE_AGENT = "ocp.registry_access/"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
MANAGED = {"app.kubernetes.io/managed-by": "ocp.registry_access"}
# Fingerprints are keyed; with this key (given to every run) the test computes the ones it expects.
FINGERPRINT_KEY = register_secret("fake-info-fingerprint-key-3c5e7a9b1d2f4a6c8e0b")
dc.set_fingerprint_key(FINGERPRINT_KEY)


def secrets_path(ns):
    return "/api/v1/namespaces/%s/secrets" % ns


def sa_path(ns, name):
    return "/api/v1/namespaces/%s/serviceaccounts/%s" % (ns, name)


def create_secret(api, ns, name, document, secret_type="kubernetes.io/dockerconfigjson", labels=None):
    key = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson", "kubernetes.io/dockercfg": ".dockercfg"}.get(secret_type, "token")
    text = document if isinstance(document, str) else json.dumps(document)
    api.create(secrets_path(ns), {"apiVersion": "v1", "kind": "Secret", "type": secret_type,
                                  "metadata": {"name": name, "labels": labels or {}},
                                  "data": {key: base64.b64encode(text.encode()).decode()}})


def create_binding(api, ns, name, role, subjects):
    api.create("%s/namespaces/%s/rolebindings" % (RBAC, ns), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": subjects})


def set_image_pull_secrets(api, ns, sa, names):
    obj = api.wait_for(sa_path(ns, sa))
    obj["imagePullSecrets"] = [{"name": n} for n in names]
    api.replace(sa_path(ns, sa), obj)


def entry(username, password, email=None):
    return dc.build_entry(username=username, password=password, email=email)


def info(connection, **args):
    args.setdefault("include_global", False)
    args.setdefault("fingerprint_key", FINGERPRINT_KEY)
    return run_module("registry_access_info", dict(connection, **args))


def module_events(seen, namespaces):
    """Requests the module sent about these namespaces (other tests run at the same time, with the same user agent)."""
    return [e for e in seen.select(user_agent_prefix=MODULE_AGENT)
            if e.namespace in namespaces or (e.resource == "namespaces" and e.name in namespaces)]


def module_writes_except_reviews(seen, namespaces):
    """Writes the module sent in these namespaces or cluster-wide, leaving out LocalSubjectAccessReviews: a review is
    a 'create' on localsubjectaccessreviews that asks the authorizer a question; it stores nothing and changes nothing."""
    writes = seen.writes(user_agent_prefix=MODULE_AGENT)
    return seen.summary([e for e in writes if (e.namespace is None or e.namespace in namespaces)
                         and e.resource not in ("subjectaccessreviews", "localsubjectaccessreviews")])


@pytest.fixture
def projects(namespace_factory):
    return namespace_factory("project-a", wait_for_default_sa=True), namespace_factory("project-b", wait_for_default_sa=True)


# -- pull secrets ---------------------------------------------------------------------------------


def test_pull_secrets_are_reported_with_registries_usernames_and_fingerprints_never_a_credential(api, connection, namespace):
    private = {"privateregistry.example.com": entry("developer@example.com", PASSWORD, "dev@example.com"),
               "quay.io/my-org": dc.build_entry(identity_token=TOKEN)}
    legacy = {"registry.example.com:5000": entry("legacy-user", OTHER_PASSWORD)}
    create_secret(api, namespace, "private-registry", {"auths": private}, labels=MANAGED)
    create_secret(api, namespace, "legacy", legacy, secret_type="kubernetes.io/dockercfg")
    create_secret(api, namespace, "not-a-pull-secret", "opaque-" + OTHER_PASSWORD, secret_type="Opaque")

    # -vvvv: the module's arguments, result and Ansible's own logging are all scanned for the credentials
    run = run_module("registry_access_info", dict(connection, namespace=namespace, include_global=False,
                                                  fingerprint_key=FINGERPRINT_KEY), verbosity=4)
    assert not run.failed and not run.changed, run.msg
    [ns] = run.result["namespaces"]
    assert ns["name"] == namespace and ns["exists"] is True
    # judged by the kubelet: it keeps no identity token, so quay.io/my-org gives it nothing (and it is a raw path prefix)
    problems = ns["pull_secrets"][1].pop("problems")
    assert [(p["consumer"], p["key"], p["code"]) for p in problems] == [
        ("kubelet", "quay.io/my-org", "path-prefix"), ("kubelet", "quay.io/my-org", "no-credential")]
    assert ns["pull_secrets"] == [
        {"name": "legacy", "type": "kubernetes.io/dockercfg", "managed": False, "invalid": None, "problems": [],
         "fingerprint": dc.fingerprint_config(legacy),
         "registries": [{"server": "registry.example.com:5000", "username": "legacy-user", "email": None,
                         "fingerprint": dc.fingerprint_entry(legacy["registry.example.com:5000"])}]},
        {"name": "private-registry", "type": "kubernetes.io/dockerconfigjson", "managed": True, "invalid": None,
         "fingerprint": dc.fingerprint_config(private),
         "registries": [{"server": "privateregistry.example.com", "username": "developer@example.com",
                         "email": "dev@example.com", "fingerprint": dc.fingerprint_entry(private["privateregistry.example.com"])},
                        {"server": "quay.io/my-org", "username": None, "email": None,
                         "fingerprint": dc.fingerprint_entry(private["quay.io/my-org"])}]},
    ]
    assert run.result["problems"] == []
    assert run.result["summary"]["pull_secrets"] == 2 and run.result["summary"]["invalid_pull_secrets"] == 0
    assert run.result["global_pull_secret"] is None and run.result["can_pull"] == []


def test_same_credentials_have_the_same_fingerprint_in_every_namespace(api, connection, projects):
    a, b = projects
    auths = {"privateregistry.example.com": entry("developer@example.com", PASSWORD)}
    create_secret(api, a, "one", {"auths": auths})
    # the same credentials, spelled the way the dockercfg layout and the https:// prefix spell them
    create_secret(api, b, "two", {"https://privateregistry.example.com/v1/": auths["privateregistry.example.com"]},
                  secret_type="kubernetes.io/dockercfg")
    create_secret(api, b, "three", {"auths": {"privateregistry.example.com": entry("developer@example.com", OTHER_PASSWORD)}})
    run = info(connection, namespaces=[a, b])
    by_name = dict((s["name"], s) for ns in run.result["namespaces"] for s in ns["pull_secrets"])
    # an entry's fingerprint is of its credentials; the document's also covers its keys as written
    [one], [two], [three] = (by_name[n]["registries"] for n in ("one", "two", "three"))
    assert one["fingerprint"] == two["fingerprint"] != three["fingerprint"]


def test_invalid_secret_is_flagged_with_the_reason(api, connection, namespace):
    # The API server only checks that the data is JSON; the entry's auth is not base64 of user:password.
    create_secret(api, namespace, "broken", {"auths": {"quay.io": {"auth": "%s!" % OTHER_PASSWORD}}})
    run = info(connection, namespace=namespace)
    [secret] = run.result["namespaces"][0]["pull_secrets"]
    assert secret["name"] == "broken" and secret["registries"] == [] and secret["fingerprint"] is None
    assert secret["invalid"] == ("the kubelet cannot read this secret, so every pull of a pod that uses it fails: "
                                 "registry 'quay.io': auth is not valid base64")
    assert [(p["consumer"], p["code"], p["fatal"]) for p in secret["problems"]] == [("kubelet", "unparsable", True)]
    assert run.result["problems"] == ["secret %s/broken is not a usable pull secret: %s" % (namespace, secret["invalid"])]
    assert run.result["summary"]["invalid_pull_secrets"] == 1


# -- service accounts -----------------------------------------------------------------------------


def test_dangling_image_pull_secret_reference_is_flagged(api, connection, namespace):
    create_secret(api, namespace, "private-registry", {"auths": {"quay.io": entry("u", PASSWORD)}})
    create_secret(api, namespace, "tls-cert", "not a docker config", secret_type="Opaque")
    set_image_pull_secrets(api, namespace, "default", ["default-dockercfg-x7k2p", "private-registry", "tls-cert", "gone"])
    run = info(connection, namespace=namespace)
    [sa] = run.result["namespaces"][0]["service_accounts"]
    assert sa == {"name": "default", "image_pull_secrets": ["default-dockercfg-x7k2p", "private-registry", "tls-cert", "gone"],
                  "missing": ["default-dockercfg-x7k2p", "gone"], "not_pull_secrets": ["tls-cert"], "provisioned": True}
    assert run.result["problems"] == [
        "service account %s/default references pull secret default-dockercfg-x7k2p, which does not exist" % namespace,
        "service account %s/default references pull secret gone, which does not exist" % namespace,
        "service account %s/default references secret tls-cert as a pull secret, but its type is not "
        "kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg (the kubelet ignores it)" % namespace,
    ]
    assert run.result["summary"]["dangling_references"] == 3


def test_service_account_without_pull_secrets_is_not_provisioned(api, connection, namespace):
    api.wait_for(sa_path(namespace, "default"))
    run = info(connection, namespace=namespace)
    assert run.result["namespaces"][0]["service_accounts"] == [
        {"name": "default", "image_pull_secrets": [], "missing": [], "not_pull_secrets": [], "provisioned": False}]


# -- image pullers --------------------------------------------------------------------------------


def test_image_pullers_are_listed_and_openshifts_own_binding_is_marked_protected(api, connection, projects):
    a, b = projects
    group = {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts:%s" % b}
    create_binding(api, b, "system:image-pullers", "system:image-puller", [group])
    create_binding(api, b, "system:image-puller", "system:image-puller", [{"kind": "ServiceAccount", "name": "default", "namespace": a}])
    create_binding(api, b, "ci-pushers", "system:image-pusher",
                   [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "ci-bot"}])
    create_binding(api, b, "browsers", "registry-viewer", [dict(group, name="registry-browsers")])
    create_binding(api, b, "editors", "edit", [{"kind": "ServiceAccount", "name": "default", "namespace": a}])
    run = info(connection, namespace=b)
    assert run.result["namespaces"][0]["image_pullers"] == [
        {"name": "browsers", "role": "registry-viewer", "role_kind": "ClusterRole", "subjects": ["group:registry-browsers"],
         "protected": False},
        {"name": "ci-pushers", "role": "system:image-pusher", "role_kind": "ClusterRole", "subjects": ["user:ci-bot"],
         "protected": False},
        {"name": "system:image-puller", "role": "system:image-puller", "role_kind": "ClusterRole",
         "subjects": ["system:serviceaccount:%s:default" % a], "protected": False},
        {"name": "system:image-pullers", "role": "system:image-puller", "role_kind": "ClusterRole",
         "subjects": ["group:system:serviceaccounts:%s" % b], "protected": True},
    ]
    assert run.result["summary"]["image_puller_bindings"] == 4


# -- the global pull secret ------------------------------------------------------------------------


def test_global_pull_secret_registries_are_reported_without_credentials(connection):
    run = info(connection, namespace="default", include_global=True)
    glob = run.result["global_pull_secret"]
    assert glob["namespace"] == "openshift-config" and glob["name"] == "pull-secret"
    assert glob["readable"] is True and glob["reason"] is None and len(glob["fingerprint"]) == 12
    # other tests edit the cluster's global pull secret concurrently: assert its shape here, the exact content below
    assert glob["registries"] and all(sorted(r) == ["email", "fingerprint", "server", "username"] for r in glob["registries"])


def test_global_pull_secret_elsewhere_is_read_exactly(api, connection, namespace):
    auths = {"cloud.openshift.com": dc.build_entry(auth=base64.b64encode(b"ocm-user:" + OTHER_PASSWORD.encode()).decode(),
                                                   email="owner@example.com"),
             "quay.io": entry("quay-user", PASSWORD, "owner@example.com")}
    create_secret(api, namespace, "additional-pull-secret", {"auths": auths})
    run = info(connection, namespace=namespace, include_global=True, global_namespace=namespace,
               global_name="additional-pull-secret")
    assert run.result["global_pull_secret"] == {
        "namespace": namespace, "name": "additional-pull-secret", "readable": True, "reason": None,
        "registries": dc.summarize(auths), "fingerprint": dc.fingerprint_config(auths), "problems": []}
    assert [r["username"] for r in run.result["global_pull_secret"]["registries"]] == ["ocm-user", "quay-user"]


def test_missing_global_pull_secret_is_reported_not_failed(connection, namespace):
    run = info(connection, namespace=namespace, include_global=True, global_namespace=namespace, global_name="nope")
    assert not run.failed
    assert run.result["global_pull_secret"] == {"namespace": namespace, "name": "nope", "readable": False,
                                                "reason": "the secret does not exist", "registries": [], "fingerprint": None,
                                                "problems": []}
    assert run.result["problems"] == ["global pull secret %s/nope is not readable: the secret does not exist" % namespace]


def test_project_admin_audits_their_project_and_sees_why_the_global_secret_is_unreadable(api, connection, namespace):
    """Impersonating a project admin (a service account bound to admin in its project only)."""
    create_binding(api, namespace, "auditor-admin", "admin", [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}])
    create_secret(api, namespace, "private-registry", {"auths": {"quay.io": entry("u", PASSWORD)}})
    auditor = "system:serviceaccount:%s:default" % namespace
    run = info(connection, namespace=namespace, include_global=True, impersonate_user=auditor)
    assert not run.failed, run.msg
    assert [s["name"] for s in run.result["namespaces"][0]["pull_secrets"]] == ["private-registry"]
    glob = run.result["global_pull_secret"]
    assert glob["readable"] is False and glob["registries"] == []
    assert glob["reason"].startswith("forbidden: ") and auditor in glob["reason"]
    # can_pull asks a LocalSubjectAccessReview in from_namespace: a project admin may ask about their project...
    run = info(connection, namespace=namespace, impersonate_user=auditor,
               can_pull=[{"service_account": "%s:default" % namespace, "from_namespace": namespace}])
    assert not run.failed, run.msg
    assert [c["from_namespace"] for c in run.result["can_pull"]] == [namespace]  # answered, with the project's rights
    # ... and about no other: a clear failure naming the namespace, no traceback
    run = info(connection, namespace=namespace, impersonate_user=auditor,
               can_pull=[{"service_account": "%s:default" % namespace, "from_namespace": "default"}])
    assert run.failed and "can_pull needs the right to create localsubjectaccessreviews" in run.msg, run.msg
    assert "in namespace default" in run.msg
    assert "Traceback" not in run.output


# -- can_pull -------------------------------------------------------------------------------------


def test_can_pull_is_answered_by_the_api_server(api, audit, connection, projects):
    a, b = projects
    checks = [{"service_account": "%s:default" % a, "from_namespace": b},
              {"service_account": "system:serviceaccount:%s:builder" % a, "from_namespace": b}]
    before = info(connection, namespace=b, can_pull=checks).result["can_pull"]
    assert [c["allowed"] for c in before] == [False, False]

    # oc policy add-role-to-user system:image-puller system:serviceaccount:<a>:default -n <b>, made by hand
    create_binding(api, b, "system:image-puller", "system:image-puller", [{"kind": "ServiceAccount", "name": "default", "namespace": a}])
    with audit.capture() as seen:
        run = info(connection, namespace=b, can_pull=checks)
    allowed, denied = run.result["can_pull"]
    assert allowed["service_account"] == "system:serviceaccount:%s:default" % a and allowed["from_namespace"] == b
    assert allowed["allowed"] is True and 'RoleBinding "system:image-puller/%s"' % b in allowed["reason"]
    assert denied == {"service_account": "system:serviceaccount:%s:builder" % a, "from_namespace": b, "allowed": False,
                      "reason": ""}
    assert run.result["summary"]["can_pull_allowed"] == 1 and run.result["summary"]["can_pull_denied"] == 1
    assert module_writes_except_reviews(seen, [a, b]) == []


def test_bad_can_pull_fails_clearly_before_any_request(audit, connection, namespace):
    with audit.capture() as seen:
        run = info(connection, namespace=namespace, can_pull=[{"service_account": "default", "from_namespace": namespace}])
    assert run.failed and run.msg.startswith("can_pull[0]: invalid service account 'default'"), run.msg
    assert module_events(seen, [namespace]) == []


# -- read-only, check mode, scale -------------------------------------------------------------------


def test_check_mode_reports_the_same_and_nothing_is_ever_written(api, audit, connection, projects):
    a, b = projects
    create_secret(api, a, "private-registry", {"auths": {"quay.io": entry("u", PASSWORD)}})
    set_image_pull_secrets(api, a, "default", ["private-registry", "gone"])
    args = dict(connection, namespaces=[a, b], include_global=True, fingerprint_key=FINGERPRINT_KEY,
                can_pull=[{"service_account": "%s:default" % a, "from_namespace": b}])
    results = []
    for check in (True, False):
        with audit.capture() as seen:
            run = run_module("registry_access_info", args, check=check)
        assert not run.failed and not run.changed, run.msg
        results.append(run.result)
        assert module_writes_except_reviews(seen, [a, b]) == []
        assert module_events(seen, [a, b]), "the module read nothing in %s, %s?" % (a, b)
    for key in ("namespaces", "can_pull", "summary", "problems"):
        assert results[0][key] == results[1][key]
    assert api.get(sa_path(a, "default"))["imagePullSecrets"] == [{"name": "private-registry"}, {"name": "gone"}]


def test_many_namespaces_are_read_with_one_list_per_kind(api, audit, connection, namespace_factory):
    team = unique("team")
    targets = [namespace_factory("audit", labels={"team": team}) for _index in range(4)]
    for ns in targets:
        create_secret(api, ns, "private-registry", {"auths": {"quay.io": entry("u", PASSWORD)}})
    with audit.capture() as seen:
        run = info(connection, namespace_selector="team=%s" % team, exclude_namespaces=[targets[0]])
    assert [ns["name"] for ns in run.result["namespaces"]] == sorted(targets[1:])
    assert all(len(ns["pull_secrets"]) == 1 for ns in run.result["namespaces"])
    # no read per namespace: one cluster-wide list per kind serves them all (one per type for secrets)
    assert module_events(seen, targets) == []
    cluster_wide = set(e.resource for e in seen.select(user_agent_prefix=MODULE_AGENT, verbs={"list"}) if e.namespace is None)
    assert {"secrets", "serviceaccounts", "rolebindings"} <= cluster_wide
    assert module_writes_except_reviews(seen, targets) == []


def test_missing_namespace_is_reported_not_failed(connection, namespace):
    missing = unique("missing")
    run = info(connection, namespaces=[namespace, missing])
    assert not run.failed, run.msg
    by_name = dict((ns["name"], ns) for ns in run.result["namespaces"])
    assert by_name[missing] == {"name": missing, "exists": False, "pull_secrets": [], "service_accounts": [], "image_pullers": [],
                                "pulls": []}
    assert by_name[namespace]["exists"] is True
    assert run.result["problems"] == ["namespace %s does not exist" % missing]
    assert run.result["summary"]["missing_namespaces"] == 1


def test_namespace_options_are_mutually_exclusive(connection, namespace):
    run = info(connection, namespace=namespace, namespaces=[namespace])
    assert run.failed and "mutually exclusive" in run.msg
    run = info(connection)
    assert run.failed and "one of the following is required" in run.msg


# -- explain a pull (images:) -----------------------------------------------------------------------
# The module's answer is compared with the oracles (tests/oracle/: the kubelet's keyring and
# containers/image built from their Go code), fed the same objects read back from the server.

HUB_PASSWORD = register_secret("fake-info-hub-pass-1b9f")
GLOBAL_PASSWORD = register_secret("fake-info-global-pass-c07e")
ORACLE_COMPARISONS = []


@pytest.fixture(scope="module")
def kubelet_oracle():
    with KubeletOracle() as oracle:
        yield oracle


@pytest.fixture(scope="module")
def containers_image_oracle():
    with ContainersImageOracle() as oracle:
        yield oracle


def server_pull_secrets(api, ns, sa):
    """The service account's pull secrets as the kubelet gets them from the pod: {name, type, data: raw bytes}, in order."""
    found = []
    for ref in api.get(sa_path(ns, sa)).get("imagePullSecrets") or []:
        secret = api.get_or_none("%s/%s" % (secrets_path(ns), ref["name"]))
        if secret is not None:
            found.append({"name": ref["name"], "type": secret["type"],
                          "data": {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}})
    return found


def fingerprint_of(credential):
    return dc.fingerprint_entry({"username": credential.get("username", ""), "password": credential.get("password", ""),
                                 "email": credential.get("email", ""), "identitytoken": credential.get("identitytoken", "")})


def assert_agrees_with_the_oracles(pull, secrets, node_config, kubelet_oracle, containers_image_oracle):
    """The module's attempts are one of the orders the kubelet's code may try; its runtime answer is containers/image's."""
    response = kubelet_oracle.lookup(pull["image"], secrets, node_config)
    ORACLE_COMPARISONS.append(pull["image"])
    if response["error"]:
        assert pull["error"] and pull["attempts"] == [], (pull, response["error"])
        return
    assert pull["error"] is None and pull["repository"] == response["repo"]
    ours = [("node" if a["from"] == "global_pull_secret" else "secret:" + a["secret"], a["username"] or "", a["fingerprint"])
            for a in pull["attempts"]]
    theirs = [[(c["source"], c["username"], fingerprint_of(c)) for c in order] for order in response["orders"]]
    assert ours in theirs, "the module says %s, the kubelet may try %s" % (ours, theirs)
    assert pull["ordered"] == (len(theirs) == 1)
    if ours or node_config is None:
        assert pull["runtime"] is None
        return
    answer = containers_image_oracle.lookup(pull["image"], node_config)
    ORACLE_COMPARISONS.append(pull["image"])
    assert pull["runtime"]["name"] == answer["name"]
    expected = sorted((o["credential"] or {}).get("username") or None for o in answer["outcomes"] if not o["error"])
    assert sorted(a["username"] for a in pull["runtime"]["answers"] if not a["error"]) == expected
    assert bool([a for a in pull["runtime"]["answers"] if a["error"]]) == bool([o for o in answer["outcomes"] if o["error"]])
    assert pull["anonymous"] == all(o["credential"] is None and not o["error"] for o in answer["outcomes"])


def test_images_explains_the_credentials_the_kubelet_tries_in_order_proven_on_the_oracles(
        api, connection, namespace, kubelet_oracle, containers_image_oracle):
    create_secret(api, namespace, "host", {"auths": {"registry.example.com": entry("host-user", PASSWORD)}})
    create_secret(api, namespace, "path", {"auths": {"registry.example.com/team": entry("path-user", OTHER_PASSWORD)}})
    create_secret(api, namespace, "hub", {"auths": {"docker.io": entry("hub-user", HUB_PASSWORD)}})
    set_image_pull_secrets(api, namespace, "default", ["host", "path", "hub", "gone"])
    images = ["registry.example.com/team/app:1", "registry.example.com/other/app", "nginx", "docker.io/library/nginx:1",
              "elsewhere.example.com/app", "Not A Valid Image"]
    # no global pull secret (one that does not exist): nodes without a config.json
    args = dict(connection, namespace=namespace, images=images, include_global=False, global_namespace=namespace,
                global_name="none", fingerprint_key=FINGERPRINT_KEY)
    run = run_module("registry_access_info", args, verbosity=4)
    assert not run.failed and not run.changed, run.msg
    pulls = dict((p["image"], p) for p in run.result["namespaces"][0]["pulls"])
    assert list(pulls) == images

    # the more specific path key first, then the host key (the kubelet's keyring, longest index first)
    team = pulls["registry.example.com/team/app:1"]
    assert [(a["secret"], a["key"], a["username"]) for a in team["attempts"]] == [
        ("path", "registry.example.com/team", "path-user"), ("host", "registry.example.com", "host-user")]
    assert any("shadowed by a more specific key" in n for n in team["notes"])
    assert [a["secret"] for a in pulls["registry.example.com/other/app"]["attempts"]] == ["host"]
    # Docker Hub images: a docker.io key serves nginx
    for image in ("nginx", "docker.io/library/nginx:1"):
        assert [(a["secret"], a["username"]) for a in pulls[image]["attempts"]] == [("hub", "hub-user")]
        assert pulls[image]["repository"] == "docker.io/library/nginx"
    nothing = pulls["elsewhere.example.com/app"]
    assert nothing["attempts"] == [] and nothing["anonymous"] and "no credential: the image is pulled anonymously" in nothing["notes"]
    assert all(p["missing_secrets"] == ["gone"] for p in pulls.values() if not p["error"])
    assert pulls["Not A Valid Image"]["error"].startswith("the kubelet fails the pull: couldn't parse image name")

    secrets = server_pull_secrets(api, namespace, "default")
    for pull in pulls.values():
        assert_agrees_with_the_oracles(pull, secrets, None, kubelet_oracle, containers_image_oracle)


def test_images_a_secret_that_fails_to_parse_fails_the_whole_pull(api, connection, namespace, kubelet_oracle,
                                                                  containers_image_oracle):
    create_secret(api, namespace, "good", {"auths": {"quay.io": entry("u", PASSWORD)}})
    create_secret(api, namespace, "broken", {"auths": {"quay.io": {"auth": "%s!" % OTHER_PASSWORD}}})
    set_image_pull_secrets(api, namespace, "default", ["good", "broken"])
    run = info(connection, namespace=namespace, images=["quay.io/org/app", "registry.example.com/app"],
               global_namespace=namespace, global_name="none")
    assert not run.failed, run.msg
    for pull in run.result["namespaces"][0]["pulls"]:
        # whatever the image: the kubelet builds one keyring from every pod secret and gives up on the first it cannot read
        assert pull["error"].startswith("the kubelet fails the pull: secret 'broken'") and pull["attempts"] == []
        assert_agrees_with_the_oracles(pull, server_pull_secrets(api, namespace, "default"), None, kubelet_oracle,
                                       containers_image_oracle)
    assert "pulling quay.io/org/app in %s as service account default fails: %s" % (
        namespace, run.result["namespaces"][0]["pulls"][0]["error"]) in run.result["problems"]


def test_images_a_missing_service_account_is_said(connection, namespace):
    run = info(connection, namespace=namespace, images=["quay.io/app"], service_account="nobody")
    assert not run.failed, run.msg
    [pull] = run.result["namespaces"][0]["pulls"]
    assert pull["service_account"] == "nobody" and pull["error"].startswith("the service account does not exist")


def test_images_fall_back_to_the_global_pull_secret_proven_on_the_oracles(api, connection, namespace, kubelet_oracle,
                                                                          containers_image_oracle):
    """The node's config.json is the global pull secret: after the service account's secrets, and read by CRI-O
    itself when the kubelet has nothing (registry-1.docker.io is Docker Hub for containers/image only)."""
    create_secret(api, namespace, "quay", {"auths": {"quay.io/org": entry("sa-user", PASSWORD)}})
    set_image_pull_secrets(api, namespace, "default", ["quay"])
    global_auths = {"quay.io": entry("global-user", GLOBAL_PASSWORD),
                    "registry-1.docker.io": dc.build_entry(auth=base64.b64encode(b"hub-global:" + GLOBAL_PASSWORD.encode()).decode()),
                    "userpass.example.com": {"username": "kubelet-only", "password": GLOBAL_PASSWORD}}
    create_secret(api, namespace, "node-pull-secret", {"auths": global_auths})
    images = ["quay.io/org/app", "quay.io/public/app", "nginx", "userpass.example.com/app", "nothing.example.com/app"]
    run = info(connection, namespace=namespace, images=images, include_global=True, global_namespace=namespace,
               global_name="node-pull-secret")
    assert not run.failed, run.msg
    pulls = dict((p["image"], p) for p in run.result["namespaces"][0]["pulls"])
    assert [(a["from"], a["username"]) for a in pulls["quay.io/org/app"]["attempts"]] == [
        ("service_account", "sa-user"), ("global_pull_secret", "global-user")]
    assert [(a["from"], a["username"]) for a in pulls["quay.io/public/app"]["attempts"]] == [("global_pull_secret", "global-user")]
    hub = pulls["nginx"]
    assert hub["attempts"] == [] and [a["username"] for a in hub["runtime"]["answers"]] == ["hub-global"]
    kubelet_only = pulls["userpass.example.com/app"]
    assert [a["username"] for a in kubelet_only["attempts"]] == ["kubelet-only"]
    assert any("usable by one consumer only" in n for n in kubelet_only["notes"])
    assert pulls["nothing.example.com/app"]["anonymous"]
    # the global pull secret is judged by containers/image: it cannot use the username/password-only entry
    problems = run.result["global_pull_secret"]["problems"]
    assert ("containers-image", "userpass.example.com", "no-credential") in [(p["consumer"], p["key"], p["code"]) for p in problems]

    secrets = server_pull_secrets(api, namespace, "default")
    node_config = base64.b64decode(api.get("%s/node-pull-secret" % secrets_path(namespace))["data"][".dockerconfigjson"])
    for pull in pulls.values():
        assert_agrees_with_the_oracles(pull, secrets, node_config, kubelet_oracle, containers_image_oracle)


def test_images_with_the_seeded_cluster_pull_secret_proven_on_the_oracles(api, cluster, connection, namespace,
                                                                          kubelet_oracle, containers_image_oracle):
    images = ["quay.io/openshift-release-dev/ocp-release:4.18", "registry.redhat.io/ubi9/ubi", "nginx",
              "registry.example.com/app"]
    with seeded_cluster_config(api, cluster) as seeded:
        run = info(connection, namespace=namespace, images=images)
        node_config = base64.b64decode(seeded["data"][".dockerconfigjson"])
    assert not run.failed, run.msg
    assert run.result["global_pull_secret"] is None  # include_global=false: read for images only, not reported
    for pull in run.result["namespaces"][0]["pulls"]:
        assert all(a["from"] == "global_pull_secret" for a in pull["attempts"])
        assert_agrees_with_the_oracles(pull, [], node_config, kubelet_oracle, containers_image_oracle)
    assert len(ORACLE_COMPARISONS) >= 4


def test_images_two_spellings_of_one_registry_have_several_orders_proven_on_the_oracles(
        api, connection, namespace, kubelet_oracle, containers_image_oracle):
    create_secret(api, namespace, "two", {"auths": {"quay.io": entry("old-user", OTHER_PASSWORD),
                                                    "https://quay.io": entry("new-user", PASSWORD)}})
    set_image_pull_secrets(api, namespace, "default", ["two"])
    run = info(connection, namespace=namespace, images=["quay.io/org/app"], global_namespace=namespace, global_name="none")
    assert not run.failed, run.msg
    [pull] = run.result["namespaces"][0]["pulls"]
    assert not pull["ordered"] and sorted(a["username"] for a in pull["attempts"]) == ["new-user", "old-user"]
    assert any(n.startswith("several possible orders") for n in pull["notes"])
    assert [p["code"] for p in run.result["namespaces"][0]["pull_secrets"][0]["problems"]].count("same-registry") == 2
    assert_agrees_with_the_oracles(pull, server_pull_secrets(api, namespace, "default"), None, kubelet_oracle,
                                   containers_image_oracle)

"""Bad input across every module and role: one table, each case a clear failure that names the problem,
no traceback, and no write in the audit log.

The table takes the pull_secret and image_puller_binding cases of the integration suite as they are
(tests/integration/test_*.py BAD_INPUTS) and adds global_pull_secret, registry_access_info, the roles'
argument specs, missing objects, forbidden access, a Secret or RoleBinding of another kind in the way and
the connection options. All cases run at once (a few processes in parallel, each case in a namespace of
its own, one audit log capture around them); a test per case then checks its outcome.
"""

import base64
import collections
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers.kube import unique
from helpers.runner import register_secret, run_playbook
from integration.test_image_puller_binding import BAD_INPUTS as BINDING_BAD_INPUTS
from integration.test_pull_secret import BAD_INPUTS as PULL_SECRET_BAD_INPUTS

MODULE_AGENT = "ocp.registry_access/"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
PARALLEL = 4
MODULE_CHUNKS = 3  # module cases run as the tasks of this many playbooks
PASSWORD = register_secret("fake-rel-bad-input-pass-3f1e")
TELEMETRY_TOKEN = register_secret("fake-rel-telemetry-token-9c0d")
NEW_OWNER_TOKEN = register_secret("fake-rel-new-owner-token-61aa")
INVALID_TOKEN = register_secret("fake-rel-invalid-bearer-token-d4e2")

# target: a module name, or "playbook:<path>"; args(ctx) -> module arguments or extra vars;
# setup(api, ctx) prepares objects in the case's namespace.
Case = collections.namedtuple("Case", "id target args expected setup")


class Context(object):
    """What a case's arguments may refer to: its namespace, the cluster's kubeconfig, a token with no rights."""

    def __init__(self, namespace, kubeconfig, token):
        self.ns = namespace
        self.kubeconfig = kubeconfig
        self.token = token


def b64(text):
    return base64.b64encode(text.encode()).decode()


def registry(**extra):
    entry = dict(server="mirror.example.com", username="robot", password=PASSWORD)
    entry.update(extra)
    return entry


def cluster_pull_secret(api, ctx):
    """A copy of a cluster-wide pull secret in the case's namespace (the real one is shared by other tests)."""
    document = {"auths": {"cloud.openshift.com": {"auth": b64("ocm:" + TELEMETRY_TOKEN), "email": "owner@example.com"},
                          "quay.io": {"auth": b64("quay:" + TELEMETRY_TOKEN), "email": "owner@example.com"}}}
    api.create("/api/v1/namespaces/%s/secrets" % ctx.ns, {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "metadata": {"name": "cluster-pull"},
        "data": {".dockerconfigjson": b64(json.dumps(document))}})


def opaque_secret(name):
    def setup(api, ctx):
        api.create("/api/v1/namespaces/%s/secrets" % ctx.ns, {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": name},
            "data": {".dockerconfigjson": b64('{"auths":{}}')}})
    return setup


def binding_of_another_role(api, ctx):
    api.create("%s/namespaces/%s/rolebindings" % (RBAC, ctx.ns), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "taken"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": []})


def gps(**args):
    """global_pull_secret arguments aimed at the case's copy of the cluster pull secret."""
    return lambda ctx: dict(dict(namespace=ctx.ns, name="cluster-pull"), **args)


def in_ns(**args):
    return lambda ctx: dict(dict(namespace=ctx.ns), **args)


def enforce(extra):
    return lambda ctx: [dict(registry_access_kubeconfig=ctx.kubeconfig), extra(ctx)]


def audit_role(extra):
    return lambda ctx: [dict(registry_access_kubeconfig=ctx.kubeconfig, audit_write_report=False, audit_include_global=False),
                        extra(ctx)]


def imported(module, cases, base):
    return [Case("%s: %s" % (module, name), module, (lambda ctx, a=args: dict(base(ctx), **a)), expected, None)
            for name, args, expected in cases]


CASES = imported("pull_secret", PULL_SECRET_BAD_INPUTS, lambda ctx: dict(name="bad", namespace=ctx.ns)) + \
    imported("image_puller_binding", BINDING_BAD_INPUTS, lambda ctx: dict(namespace=ctx.ns)) + [
    # pull_secret: what the integration table does not try
    Case("pull_secret: a Secret of another type in the way", "pull_secret",
         in_ns(name="taken", registries=[registry()], unmanaged="adopt"), "its type is Opaque", opaque_secret("taken")),
    Case("pull_secret: a Secret the collection did not create, unmanaged: fail", "pull_secret",
         in_ns(name="taken", registries=[registry()]), "unmanaged: adopt", opaque_secret("taken")),
    Case("pull_secret: invalid secret name", "pull_secret", in_ns(name="Bad_Name", registries=[registry()]),
         "invalid secret name 'Bad_Name'", None),
    Case("pull_secret: invalid service account name", "pull_secret",
         in_ns(name="ok", registries=[registry()], service_accounts=["Bad_SA"]), "invalid service account name 'Bad_SA'", None),
    Case("pull_secret: forbidden", "pull_secret", lambda ctx: dict(name="ok", namespace=ctx.ns, api_key=ctx.token,
                                                                   registries=[registry()]), "403 Forbidden", None),
    Case("pull_secret: missing namespace", "pull_secret",
         lambda ctx: dict(name="ok", namespaces=[ctx.ns, ctx.ns + "-missing"], registries=[registry()]),
         "namespace not found", None),
    Case("pull_secret: bad namespace_selector", "pull_secret",
         lambda ctx: dict(name="ok", namespace_selector="team in (", registries=[registry()]), "unable to parse requirement", None),
    Case("pull_secret: wait_timeout not a number", "pull_secret", in_ns(name="ok", registries=[registry()], wait_timeout="soon"),
         "wait_timeout", None),
    Case("pull_secret: labels not a mapping", "pull_secret", in_ns(name="ok", registries=[registry()], labels="team"),
         "labels", None),
    Case("pull_secret: NaN in content", "pull_secret", in_ns(name="ok", content='{"auths":{"quay.io":{"auth":NaN}}}'),
         "NaN is not a JSON value", None),
    Case("pull_secret: auths not an object", "pull_secret", in_ns(name="ok", content={"auths": []}),
         "'auths' must be a JSON object", None),
    Case("pull_secret: type not a choice", "pull_secret", in_ns(name="ok", type="opaque", registries=[registry()]),
         "value of type must be one of", None),
    # image_puller_binding
    Case("image_puller_binding: role_kind not a choice", "image_puller_binding",
         in_ns(role_kind="Cluster", service_accounts=["a:default"]), "role_kind", None),
    Case("image_puller_binding: subject dict with an unknown key", "image_puller_binding",
         in_ns(service_accounts=[{"namespace": "a", "name": "default", "kind": "User"}]), "exactly the keys namespace and name", None),
    Case("image_puller_binding: a group given as a user", "image_puller_binding",
         in_ns(users=["system:serviceaccounts:project-a"]), "this is a group name", None),
    Case("image_puller_binding: bad namespace_selector", "image_puller_binding",
         lambda ctx: dict(namespace_selector="!!!", service_accounts=["a:default"]), "unable to parse requirement", None),
    Case("image_puller_binding: forbidden", "image_puller_binding",
         lambda ctx: dict(namespace=ctx.ns, api_key=ctx.token, service_accounts=["a:default"]), "403 Forbidden", None),
    Case("image_puller_binding: invalid rolebinding_name", "image_puller_binding",
         in_ns(rolebinding_name="a/b", service_accounts=["a:default"]), "invalid rolebinding name", None),
    Case("image_puller_binding: missing namespace", "image_puller_binding",
         lambda ctx: dict(namespaces=[ctx.ns, ctx.ns + "-missing"], service_accounts=["a:default"]), "namespace not found", None),
    Case("image_puller_binding: a RoleBinding of another role in the way", "image_puller_binding",
         in_ns(rolebinding_name="taken", service_accounts=["a:default"]), "exists for ClusterRole view", binding_of_another_role),
    # global_pull_secret (on a copy in the case's namespace)
    # (a scheme in a new key is no longer bad input: it is written as the key the node looks up)
    Case("global_pull_secret: tag in a new key", "global_pull_secret",
         gps(registries=[registry(server="mirror.example.com/team/app:v1")]), "does not name a registry or repository",
         cluster_pull_secret),
    Case("global_pull_secret: auth not base64", "global_pull_secret",
         gps(registries=[dict(server="mirror.example.com", auth="%%%")]), "base64", cluster_pull_secret),
    Case("global_pull_secret: content not JSON", "global_pull_secret", gps(content="{not json"), "not valid JSON",
         cluster_pull_secret),
    Case("global_pull_secret: Telemetry entry changed without allow_telemetry_change", "global_pull_secret",
         gps(registries=[dict(server="cloud.openshift.com", username="new-owner", password=NEW_OWNER_TOKEN)]),
         "allow_telemetry_change", cluster_pull_secret),
    Case("global_pull_secret: backup_keep zero", "global_pull_secret", gps(registries=[registry()], backup=True, backup_keep=0),
         "backup_keep", cluster_pull_secret),
    Case("global_pull_secret: wait not a boolean", "global_pull_secret", gps(registries=[registry()], wait="maybe"),
         "argument 'wait'", cluster_pull_secret),
    Case("global_pull_secret: state not a choice", "global_pull_secret", gps(registries=[registry()], state="gone"),
         "value of state must be one of", cluster_pull_secret),
    Case("global_pull_secret: registries empty", "global_pull_secret", gps(registries=[]), "registries is empty",
         cluster_pull_secret),
    Case("global_pull_secret: missing secret", "global_pull_secret",
         lambda ctx: dict(namespace=ctx.ns, name="missing", registries=[registry()]), "not found", None),
    Case("global_pull_secret: a Secret of another type in the way", "global_pull_secret",
         lambda ctx: dict(namespace=ctx.ns, name="opaque", registries=[registry()]), "type Opaque", opaque_secret("opaque")),
    Case("global_pull_secret: forbidden", "global_pull_secret",
         lambda ctx: dict(namespace=ctx.ns, name="cluster-pull", registries=[registry()], api_key=ctx.token), "403 Forbidden",
         cluster_pull_secret),
    # registry_access_info
    Case("registry_access_info: can_pull subject without namespace", "registry_access_info",
         in_ns(can_pull=[dict(service_account="default", from_namespace="project-b")]), "invalid service account 'default'", None),
    Case("registry_access_info: can_pull without from_namespace", "registry_access_info",
         in_ns(can_pull=[dict(service_account="project-a:default")]), "from_namespace", None),
    Case("registry_access_info: can_pull invalid namespace", "registry_access_info",
         in_ns(can_pull=[dict(service_account="project-a:default", from_namespace="Bad_NS")]), "invalid namespace 'Bad_NS'", None),
    Case("registry_access_info: no namespace option", "registry_access_info", lambda ctx: dict(),
         "one of the following is required", None),
    Case("registry_access_info: namespace and namespace_selector", "registry_access_info",
         in_ns(namespace_selector="team=a"), "mutually exclusive", None),
    Case("registry_access_info: include_global not a boolean", "registry_access_info", in_ns(include_global="maybe"),
         "include_global", None),
    Case("registry_access_info: bad namespace_selector", "registry_access_info", lambda ctx: dict(namespace_selector="team in ("),
         "unable to parse requirement", None),
    Case("registry_access_info: forbidden", "registry_access_info", lambda ctx: dict(namespace=ctx.ns, api_key=ctx.token),
         "403 Forbidden", None),
    # connection options (any module)
    Case("connection: kubeconfig does not exist", "pull_secret",
         lambda ctx: dict(name="ok", namespace=ctx.ns, kubeconfig="/nonexistent/kubeconfig", registries=[registry()]),
         "kubeconfig /nonexistent/kubeconfig does not exist", None),
    Case("connection: unknown context", "image_puller_binding",
         in_ns(context="no-such-context", service_accounts=["a:default"]), "no-such-context", None),
    Case("connection: host without scheme", "registry_access_info",
         in_ns(host="127.0.0.1:6443", api_key=INVALID_TOKEN), "must start with https://", None),
    Case("connection: a CA that did not sign the API server certificate", "registry_access_info",
         in_ns(ca_cert="/etc/ssl/certs/ca-certificates.crt"), "failed verification", None),
    Case("connection: invalid token", "global_pull_secret", gps(registries=[registry()], api_key=INVALID_TOKEN),
         "401 Unauthorized", cluster_pull_secret),
    # roles (argument specs, then the modules behind them)
    Case("project_access role: pull secrets not a list", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(project_access_pull_secrets="private-registry")), "project_access_pull_secrets", None),
    Case("project_access role: pull secret without name", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(project_access_pull_secrets=[dict(namespace=ctx.ns, registries=[registry()])])),
         "missing required arguments: name", None),
    Case("project_access role: type not a choice", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(project_access_pull_secrets=[dict(name="ok", namespace=ctx.ns, type="opaque",
                                                                    registries=[registry()])])),
         "dockerconfigjson, dockercfg", None),
    Case("project_access role: state not a choice", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(project_access_state="gone", project_access_image_pullers=[
             dict(image_namespace=ctx.ns, service_accounts=["a:default"])])), "project_access_state", None),
    Case("project_access role: role_kind not a choice", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(project_access_image_pullers=[dict(image_namespace=ctx.ns, role_kind="Cluster",
                                                                     service_accounts=["a:default"])])), "role_kind", None),
    Case("project_access role: subject without namespace", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(project_access_image_pullers=[dict(image_namespace=ctx.ns, service_accounts=["default"])])),
         "invalid service account 'default'", None),
    Case("project_access role: bad server (no_log task)", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(project_access_pull_secrets=[dict(name="ok", namespace=ctx.ns,
                                                                    registries=[registry(server="bad host")])])),
         "contains whitespace", None),
    Case("cluster_pull_secret role: entry without server", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(cluster_pull_secret_namespace=ctx.ns, cluster_pull_secret_name="cluster-pull",
                                  cluster_pull_secret_registries=[dict(username="robot", password=PASSWORD)])),
         "missing required arguments: server", cluster_pull_secret),
    Case("cluster_pull_secret role: backup not a boolean", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(cluster_pull_secret_namespace=ctx.ns, cluster_pull_secret_name="cluster-pull",
                                  cluster_pull_secret_backup="maybe", cluster_pull_secret_registries=[registry()])),
         "cluster_pull_secret_backup", cluster_pull_secret),
    Case("cluster_pull_secret role: Telemetry entry removed", "playbook:playbooks/enforce.yml",
         enforce(lambda ctx: dict(cluster_pull_secret_namespace=ctx.ns, cluster_pull_secret_name="cluster-pull",
                                  cluster_pull_secret_remove_servers=["cloud.openshift.com"])),
         "allow_telemetry_change", cluster_pull_secret),
    Case("audit role: namespaces and selector both given", "playbook:playbooks/audit.yml",
         audit_role(lambda ctx: dict(audit_namespaces=[ctx.ns], audit_namespace_selector="team=a")), "not both", None),
    Case("audit role: can_pull without from_namespace", "playbook:playbooks/audit.yml",
         audit_role(lambda ctx: dict(audit_namespaces=[ctx.ns], audit_can_pull=[dict(service_account="project-a:default")])),
         "from_namespace", None),
]

Outcome = collections.namedtuple("Outcome", "failed msg output writes")


def _module_args(case, ctx):
    args = case.args(ctx)
    if not args.get("host"):
        args.setdefault("kubeconfig", ctx.kubeconfig)
    return args


def _run_module_cases(cases, contexts, tmp_dir, index):
    """Module cases as the tasks of one playbook (one ansible-playbook start for many cases): {case id: Outcome}."""
    tasks = [{"name": "bad input case %03d" % i, "ignore_errors": True,
              "ocp.registry_access." + case.target: _module_args(case, contexts[case.id])} for i, case in enumerate(cases)]
    path = tmp_dir / ("bad-input-%d.yml" % index)
    path.write_text(json.dumps([{"name": "Bad input", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    run = run_playbook(str(path))
    by_task = dict((r["_task"], r) for r in run.results)
    outcomes = {}
    for i, case in enumerate(cases):
        result = by_task.get("bad input case %03d" % i)
        if result is None:
            outcomes[case.id] = Outcome(False, "no result", run.output, None)
            continue
        text = json.dumps(result)
        outcomes[case.id] = Outcome(result.get("_status") == "failed", str(result.get("msg", "")),
                                    text + ("\nTraceback in the run's output" if "Traceback" in run.output else ""), None)
    return outcomes


def _run_playbook_case(case, ctx):
    run = run_playbook(case.target.split(":", 1)[1], extra_vars=case.args(ctx))
    failed_results = [r for r in run.results if r.get("_status") == "failed"]
    # a no_log task's result is censored; ansible-playbook still prints the module's (redacted) message
    lines = [str(r.get("msg", "")) for r in failed_results]
    lines += [line for line in run.output.splitlines() if "ERROR" in line or "fatal" in line]
    msg = "\n".join(lines)
    return {case.id: Outcome(run.rc != 0, msg, run.output, None)}


@pytest.fixture(scope="module")
def nobody_token(api, cluster):
    """A token of a service account with no rights at all (forbidden access)."""
    ns = unique("rel-nobody")
    api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    api.create("/api/v1/namespaces/%s/serviceaccounts" % ns, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                              "metadata": {"name": "nobody"}})
    yield register_secret(api.token_for(ns, "nobody"))
    api.delete("/api/v1/namespaces/" + ns)


@pytest.fixture(scope="module")
def outcomes(api, audit, cluster, nobody_token, figures, tmp_path_factory):
    """Every case run once, in parallel, inside one audit log capture: {case id: Outcome}."""
    contexts = {}
    for case in CASES:
        ns = unique("rel-bad")
        api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        contexts[case.id] = Context(ns, cluster.kubeconfig, nobody_token)
        if case.setup:
            case.setup(api, contexts[case.id])
    module_cases = [c for c in CASES if not c.target.startswith("playbook:")]
    chunks = [module_cases[i::MODULE_CHUNKS] for i in range(MODULE_CHUNKS)]
    tmp_dir = tmp_path_factory.mktemp("bad-input")
    started = time.time()
    results = {}
    with audit.capture() as seen:
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            futures = [pool.submit(_run_module_cases, chunk, contexts, tmp_dir, i) for i, chunk in enumerate(chunks)]
            futures += [pool.submit(_run_playbook_case, case, contexts[case.id])
                        for case in CASES if case.target.startswith("playbook:")]
            for future in futures:
                results.update(future.result())
    module_writes = seen.writes(user_agent_prefix=MODULE_AGENT)
    out = {}
    for case in CASES:
        ns = contexts[case.id].ns
        writes = seen.summary([e for e in module_writes if e.namespace in (ns, ns + "-missing")])
        out[case.id] = results[case.id]._replace(writes=writes)
    out["_cluster_scoped_writes"] = seen.summary([e for e in module_writes if e.namespace is None
                                                  and e.resource not in ("subjectaccessreviews", "selfsubjectaccessreviews")])
    areas = collections.Counter(c.id.split(":")[0] for c in CASES)
    figures["bad_input"] = {"cases": len(CASES), "by_area": dict(areas), "parallel": PARALLEL,
                            "seconds": round(time.time() - started, 1)}
    yield out
    for ctx in contexts.values():
        api.delete("/api/v1/namespaces/" + ctx.ns)


def test_the_table_has_at_least_40_cases_across_every_module_and_role(outcomes):
    targets = set(c.target for c in CASES)
    counts = ", ".join("%s %d" % (t, sum(1 for c in CASES if c.target == t)) for t in sorted(targets))
    print("bad input cases: %d (%s)" % (len(CASES), counts))
    assert len(CASES) >= 40
    assert len(set(c.id for c in CASES)) == len(CASES), "case ids must be unique"
    assert {"pull_secret", "image_puller_binding", "global_pull_secret", "registry_access_info",
            "playbook:playbooks/enforce.yml", "playbook:playbooks/audit.yml"} <= targets
    assert outcomes["_cluster_scoped_writes"] == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_naming_the_problem_and_writes_nothing(outcomes, case):
    outcome = outcomes[case.id]
    assert outcome.failed, "%s did not fail:\n%s" % (case.id, outcome.output[-2000:])
    assert case.expected.lower() in outcome.msg.lower(), "message does not name the problem (%r):\n%s" % (case.expected, outcome.msg)
    assert "Traceback" not in outcome.output, outcome.output[-3000:]
    assert outcome.writes == [], "bad input led to write requests: %s" % outcome.writes

"""Least privilege (docs/rbac.md): each role, run through playbooks/enforce.yml as a service account bound to
exactly the rules shipped in rbac/, passes; with any one of those rights taken away, the run fails and says
Forbidden about the resource it could not touch.

The automation's token comes from the TokenRequest API and reaches Ansible only as K8S_AUTH_* variables (as
AWX injects it); no kubeconfig is readable. The API server's audit log shows which requests were refused.
"""

import base64
import copy
import json
import os
import re

import pytest
import yaml

from helpers.baseline import seeded_cluster_config
from helpers.kube import unique
from helpers.mco import MachineConfigOperator
from helpers.runner import REPO, register_secret, run_playbook

RBAC = "/apis/rbac.authorization.k8s.io/v1"
MODULE_AGENT = "ocp.registry_access/"
ENFORCE = "playbooks/enforce.yml"
AUDIT = "playbooks/audit.yml"

FIRST_PASSWORD = register_secret("fake-rbac-first-pass-7d21")
SECOND_PASSWORD = register_secret("fake-rbac-second-pass-c90e")


def manifest(filename, kind, name):
    """The one object of rbac/<filename>, checked to be the expected kind and name."""
    with open(os.path.join(REPO, "rbac", filename)) as f:
        docs = [doc for doc in yaml.safe_load_all(f) if doc]
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [(kind, name)], filename
    return docs[0]


def rights(role):
    """(resource, verb) pairs a Role or ClusterRole grants."""
    return sorted((resource, verb) for rule in role["rules"] for resource in rule["resources"] for verb in rule["verbs"])


def without(role, resource, verb):
    """A copy of role without one verb on one resource (the rule dropped if nothing is left of it)."""
    assert (resource, verb) in rights(role)
    reduced = copy.deepcopy(role)
    rules = []
    for rule in reduced["rules"]:
        if resource in rule["resources"] and verb in rule["verbs"]:
            if len(rule["resources"]) > 1:
                rules.append(dict(rule, resources=[r for r in rule["resources"] if r != resource]))
            rule = dict(rule, resources=[resource], verbs=[v for v in rule["verbs"] if v != verb])
        if rule["verbs"]:
            rules.append(rule)
    reduced["rules"] = rules
    assert (resource, verb) not in rights(reduced) and len(rights(reduced)) == len(rights(role)) - 1
    return reduced


class Automation(object):
    """A service account with no right but the ones a test binds to it; everything bound is removed afterwards."""

    def __init__(self, api, cluster, namespace, home):
        self.api = api
        self.cluster = cluster
        self.namespace = namespace
        self.home = home
        self.name = "registry-access"
        self.user = "system:serviceaccount:%s:%s" % (namespace, self.name)
        self.subject = {"kind": "ServiceAccount", "name": self.name, "namespace": namespace}
        self.cleanup = []
        api.create("/api/v1/namespaces/%s/serviceaccounts" % namespace,
                   {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": self.name}})

    def _create(self, collection, obj):
        self.api.create(collection, obj)
        self.cleanup.append("%s/%s" % (collection, obj["metadata"]["name"]))

    def role(self, role):
        """Creates a uniquely named copy of a shipped Role or ClusterRole; returns (kind, name)."""
        obj = copy.deepcopy(role)
        obj["metadata"]["name"] = unique(obj["metadata"]["name"])
        if obj["kind"] == "ClusterRole":
            self._create(RBAC + "/clusterroles", obj)
        else:
            self._create("%s/namespaces/%s/roles" % (RBAC, obj["metadata"]["namespace"]), obj)
        return obj["kind"], obj["metadata"]["name"]

    def bind_in(self, role, namespaces):
        """role bound with a RoleBinding in each namespace (a ClusterRole) or in its own namespace (a Role)."""
        kind, name = self.role(role)
        for ns in namespaces if kind == "ClusterRole" else [role["metadata"]["namespace"]]:
            self._create("%s/namespaces/%s/rolebindings" % (RBAC, ns), {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
                "subjects": [self.subject]})

    def bind_cluster_wide(self, role):
        kind, name = self.role(role)
        self._create(RBAC + "/clusterrolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
            "subjects": [self.subject]})

    def env(self):
        """What AWX's "OpenShift or Kubernetes API Bearer Token" credential injects, and nothing to fall back on."""
        token = register_secret(self.api.token_for(self.namespace, self.name))
        return {"K8S_AUTH_HOST": self.cluster.server, "K8S_AUTH_API_KEY": token, "K8S_AUTH_VERIFY_SSL": "true",
                "K8S_AUTH_SSL_CA_CERT": self.cluster.ca_cert, "KUBECONFIG": str(self.home / "no-kubeconfig"),
                "HOME": str(self.home)}

    def run(self, variables, env=None, playbook=ENFORCE):
        """playbooks/enforce.yml (or another playbook) with these variables, as this service account."""
        path = self.home / ("vars-%s.json" % unique("run"))
        path.write_text(json.dumps(variables))
        return run_playbook(playbook, extra_vars=["@%s" % path], env=env or self.env())

    def remove(self):
        for path in reversed(self.cleanup):
            self.api.delete(path)


@pytest.fixture
def automation(api, cluster, namespace_factory, tmp_path):
    bot = Automation(api, cluster, namespace_factory("rbac-bot"), tmp_path)
    yield bot
    bot.remove()


def refused(seen, user):
    """The requests of user the API server answered 403, as (verb, resource, namespace or '-')."""
    return sorted(set((e.verb, e.resource, e.namespace or "-") for e in seen.events if e.user == user and e.code == 403))


def failure_of(run):
    """The failed task's name and the error the user sees for it.

    ansible-core prints a failed module's msg as "[ERROR]: Task failed: Module failed: ..." even for a no_log
    task (the modules keep credentials out of their messages), so that line is what a user reads.
    """
    failed = [r for r in run.results if r.get("_status") == "failed"]
    assert failed, "no task failed (rc %d):\n%s" % (run.rc, run.output[-3000:])
    shown = re.findall(r"^\[ERROR\]: Task failed: (.*)$", run.output, re.M)
    assert shown, "no error shown (rc %d):\n%s" % (run.rc, run.output[-3000:])
    return failed[0]["_task"], shown[0]


# -- project_access: a project admin's rights, RoleBindings only ----------------------------------------------

PROJECT_ROLE = manifest("project-access-clusterrole.yaml", "ClusterRole", "ocp-registry-access-project-access")
REVIEW_ROLE = manifest("subject-access-review-clusterrole.yaml", "ClusterRole", "ocp-registry-access-subject-access-review")
LISTER_ROLE = manifest("namespace-lister-clusterrole.yaml", "ClusterRole", "ocp-registry-access-namespace-lister")
SECRET = "rbac-registry"
AUDITOR = "rbac-auditor@example.com"

# Rights only some runs need: a re-read after a 409 Conflict, a service account that does not exist yet.
PROJECT_CONDITIONAL = [("secrets", "get"), ("serviceaccounts", "get")]
# Every other right, and the resource a run without it must name in its Forbidden message.
PROJECT_REQUIRED = [
    (("namespaces", "get"), "namespaces"),
    (("secrets", "list"), "secrets"),
    (("secrets", "create"), "secrets"),
    (("secrets", "update"), "secrets"),
    (("secrets", "delete"), "secrets"),
    (("serviceaccounts", "list"), "serviceaccounts"),
    (("serviceaccounts", "update"), "serviceaccounts"),
    (("rolebindings", "list"), "rolebindings"),
    (("rolebindings", "create"), "rolebindings"),
    (("rolebindings", "update"), "rolebindings"),
    (("rolebindings", "delete"), "rolebindings"),
    # without bind, creating a RoleBinding to system:image-puller is an escalation
    (("clusterroles", "bind"), "rolebindings"),
    # verify: true asks a LocalSubjectAccessReview in each image namespace
    (("localsubjectaccessreviews", "create"), "localsubjectaccessreviews"),
]
# Cluster-wide requests a project admin is refused and the modules answer by reading each namespace.
PROJECT_FALLBACK_PROBES = {("list", "namespaces", "-"), ("list", "secrets", "-"), ("list", "serviceaccounts", "-"),
                           ("list", "rolebindings", "-"), ("get", "clusterroles", "-")}


def project_steps(apps):
    """create, then change (new password, one more subject), then remove: every write the role can send."""
    def variables(password, state="present", users=()):
        pullers = {"image_namespaces": apps, "all_service_accounts_in": [apps[0]], "verify": True}
        if users:
            pullers["users"] = list(users)
        return {"project_access_state": state,
                "project_access_pull_secrets": [{"name": SECRET, "namespaces": apps, "service_accounts": ["default"],
                                                 "registries": [{"server": "registry.example.com", "username": "rbac-bot",
                                                                 "password": password}]}],
                "project_access_image_pullers": [pullers]}
    return [("create", variables(FIRST_PASSWORD)),
            ("update", variables(SECOND_PASSWORD, users=[AUDITOR])),
            ("remove", variables(SECOND_PASSWORD, state="absent", users=[AUDITOR]))]


@pytest.fixture
def apps(namespace_factory):
    """Three projects (more than two, so the modules try their cluster-wide lists first)."""
    return [namespace_factory("rbac-app", wait_for_default_sa=True) for _index in range(3)]


def secret_password(api, ns):
    secret = api.get_or_none("/api/v1/namespaces/%s/secrets/%s" % (ns, SECRET))
    if secret is None:
        return None
    auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
    return auths["registry.example.com"]["password"]


def linked(api, ns):
    sa = api.get("/api/v1/namespaces/%s/serviceaccounts/default" % ns)
    return SECRET in [ref["name"] for ref in sa.get("imagePullSecrets") or []]


def puller_subjects(api, ns):
    binding = api.get_or_none("%s/namespaces/%s/rolebindings/system:image-puller" % (RBAC, ns))
    return None if binding is None else sorted(s["name"] for s in binding["subjects"])


def test_project_role_rights_are_each_required_or_documented_as_conditional():
    assert sorted([r for r, _resource in PROJECT_REQUIRED] + PROJECT_CONDITIONAL) == rights(PROJECT_ROLE)
    for rule in PROJECT_ROLE["rules"]:
        if rule["resources"] == ["clusterroles"]:
            assert rule["resourceNames"] == ["system:image-puller"]


def test_project_access_runs_with_rolebindings_in_its_projects_only(api, audit, automation, apps):
    automation.bind_in(PROJECT_ROLE, apps)
    env = automation.env()
    steps = dict(project_steps(apps))
    with audit.capture() as seen:
        run = automation.run(steps["create"], env)
        assert run.rc == 0, run.output[-3000:]
        assert [secret_password(api, ns) for ns in apps] == [FIRST_PASSWORD] * 3
        assert all(linked(api, ns) for ns in apps)
        assert [puller_subjects(api, ns) for ns in apps] == [["system:serviceaccounts:%s" % apps[0]]] * 3

        run = automation.run(steps["create"], env)
        assert run.rc == 0 and run.changed_tasks() == [], run.changed_tasks()

        run = automation.run(steps["update"], env)
        assert run.rc == 0, run.output[-3000:]
        assert [secret_password(api, ns) for ns in apps] == [SECOND_PASSWORD] * 3
        assert [puller_subjects(api, ns) for ns in apps] == [sorted([AUDITOR, "system:serviceaccounts:%s" % apps[0]])] * 3

        run = automation.run(steps["remove"], env)
        assert run.rc == 0, run.output[-3000:]
        assert [secret_password(api, ns) for ns in apps] == [None] * 3
        assert not any(linked(api, ns) for ns in apps)
        assert [puller_subjects(api, ns) for ns in apps] == [None] * 3

    # everything was done as the service account, and the only refusals were the cluster-wide probes
    writes = seen.writes(namespaces=apps, user_agent_prefix=MODULE_AGENT)
    assert writes and {e.user for e in writes} == {automation.user}
    assert set(refused(seen, automation.user)) <= PROJECT_FALLBACK_PROBES, refused(seen, automation.user)
    assert ("list", "secrets", "-") in refused(seen, automation.user)


@pytest.mark.parametrize("right, resource", PROJECT_REQUIRED, ids=["%s-%s" % r for r, _resource in PROJECT_REQUIRED])
def test_project_access_without_one_right_fails_with_forbidden(api, automation, apps, right, resource):
    automation.bind_in(without(PROJECT_ROLE, *right), apps)
    env = automation.env()
    for step, variables in project_steps(apps):
        run = automation.run(variables, env)
        if run.rc != 0:
            break
    else:
        pytest.fail("every step passed without %s on %s" % (right[1], right[0]))
    task, message = failure_of(run)
    assert re.search(r"forbidden", message, re.I), "%s / %s:\n%s" % (step, task, message[:3000])
    assert resource in message, "%s / %s:\n%s" % (step, task, message[:3000])
    assert automation.user in message


def test_verify_works_with_the_project_role_alone(api, audit, automation, apps):
    automation.bind_in(PROJECT_ROLE, apps)
    variables = {"project_access_image_pullers": [{"image_namespace": apps[1], "service_accounts": ["%s:default" % apps[0]],
                                                   "verify": True}]}
    with audit.capture() as seen:
        run = automation.run(variables)
    assert run.rc == 0, run.output[-3000:]
    verification = [v for r in run.results for item in r.get("results") or [] for v in item.get("verification") or []]
    assert [(v["namespace"], v["allowed"]) for v in verification] == [(apps[1], True)]
    reviews = {(e.verb, e.resource, e.namespace, e.code) for e in seen.events
               if e.user == automation.user and "subjectaccessreviews" in e.resource}
    assert reviews == {("create", "localsubjectaccessreviews", apps[1], 201)}, reviews


def test_verify_without_the_review_right_reports_the_bindings_it_wrote(api, automation, apps):
    automation.bind_in(without(PROJECT_ROLE, "localsubjectaccessreviews", "create"), apps)
    variables = {"project_access_image_pullers": [{"image_namespace": apps[1], "service_accounts": ["%s:default" % apps[0]],
                                                   "verify": True}]}
    run = automation.run(variables)
    assert run.rc != 0
    _task, message = failure_of(run)
    assert "localsubjectaccessreviews" in message and re.search(r"forbidden", message, re.I), message[:3000]
    failed = [item for r in run.results for item in r.get("results") or [] if item.get("failed")]
    assert [(item["changed"], [(b["namespace"], b["action"]) for b in item["bindings"]]) for item in failed] == [
        (True, [(apps[1], "created")])]
    assert puller_subjects(api, apps[1]) == ["default"]


def test_namespace_selector_needs_the_cluster_wide_namespace_list(api, automation, namespace_factory):
    team = unique("rbac-team")
    selected = [namespace_factory("rbac-sel", labels={"team": team}, wait_for_default_sa=True) for _index in range(2)]
    automation.bind_in(PROJECT_ROLE, selected)
    variables = {"project_access_pull_secrets": [{"name": SECRET, "namespace_selector": "team=%s" % team,
                                                  "service_accounts": ["default"],
                                                  "registries": [{"server": "registry.example.com", "username": "rbac-bot",
                                                                  "password": FIRST_PASSWORD}]}]}
    run = automation.run(variables)
    assert run.rc != 0
    _task, message = failure_of(run)
    assert "namespaces" in message and re.search(r"forbidden", message, re.I), message[:3000]

    automation.bind_cluster_wide(LISTER_ROLE)
    run = automation.run(variables)
    assert run.rc == 0, run.output[-3000:]
    assert [secret_password(api, ns) for ns in selected] == [FIRST_PASSWORD] * 2


# -- cluster_pull_secret: one Secret of openshift-config, two cluster-scoped reads ------------------------------

GLOBAL_ROLE = manifest("cluster-pull-secret-role.yaml", "Role", "ocp-registry-access-cluster-pull-secret")
BACKUP_ROLE = manifest("cluster-pull-secret-backup-role.yaml", "Role", "ocp-registry-access-cluster-pull-secret-backup")
GLOBAL_CLUSTER_ROLE = manifest("cluster-pull-secret-clusterrole.yaml", "ClusterRole", "ocp-registry-access-cluster-pull-secret")
GLOBAL_SECRET = "/api/v1/namespaces/openshift-config/secrets/pull-secret"
BACKUPS = "/api/v1/namespaces/openshift-config/secrets?labelSelector=ocp-registry-access%2Fbackup-of%3Dpull-secret"
GLOBAL_REGISTRY = "rbac-registry.example.com"
GLOBAL_PASSWORD = register_secret("fake-rbac-global-pass-41b8")


def global_variables(state="present", backup=False, wait=False):
    if state == "present":
        variables = {"cluster_pull_secret_registries": [{"server": GLOBAL_REGISTRY, "username": "rbac-bot",
                                                         "password": GLOBAL_PASSWORD}]}
    else:
        variables = {"cluster_pull_secret_remove_servers": [GLOBAL_REGISTRY]}
    variables.update(cluster_pull_secret_backup=backup, cluster_pull_secret_backup_keep=1, cluster_pull_secret_wait=wait,
                     cluster_pull_secret_wait_timeout=60)
    return variables


def global_registries(api):
    return sorted(json.loads(base64.b64decode(api.get(GLOBAL_SECRET)["data"][".dockerconfigjson"]))["auths"])


def backup_names(api):
    return sorted(s["metadata"]["name"] for s in api.get(BACKUPS)["items"])


@pytest.fixture
def global_pull_secret(api, cluster):
    """openshift-config/pull-secret as seeded, to ourselves (one test at a time); what was found put back after."""
    with seeded_cluster_config(api, cluster) as seeded:
        yield seeded


@pytest.fixture
def mco(api, global_pull_secret):
    """The Machine Config Operator simulator, so that cluster_pull_secret_wait has a rollout to wait for."""
    sim = MachineConfigOperator(api, step=0.2)
    sim.start()
    yield sim
    sim.stop()
    assert not sim.errors, sim.errors


def test_global_role_rights_are_named_where_they_can_be():
    assert GLOBAL_ROLE["metadata"]["namespace"] == BACKUP_ROLE["metadata"]["namespace"] == "openshift-config"
    assert GLOBAL_ROLE["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["pull-secret"],
                                     "verbs": ["get", "update"]}]
    assert rights(BACKUP_ROLE) == sorted(("secrets", v) for v in ["create", "list", "delete", "get", "update"])
    assert rights(GLOBAL_CLUSTER_ROLE) == [("infrastructures", "get"), ("machineconfigpools", "list")]


def bind_global(automation, role=GLOBAL_ROLE, backup_role=BACKUP_ROLE, cluster_role=GLOBAL_CLUSTER_ROLE):
    automation.bind_in(role, [])
    if backup_role is not None:
        automation.bind_in(backup_role, [])
    automation.bind_cluster_wide(cluster_role)


@pytest.mark.xdist_group("global_pull_secret")
def test_cluster_pull_secret_runs_with_one_secret_and_two_cluster_reads(api, audit, automation, global_pull_secret, mco):
    before = global_registries(api)
    bind_global(automation, backup_role=None)
    env = automation.env()
    with audit.capture() as seen:
        run = automation.run(global_variables(wait=True), env)
        assert run.rc == 0, run.output[-3000:]
        assert global_registries(api) == sorted(before + [GLOBAL_REGISTRY])
        run = automation.run(global_variables(wait=True), env)
        assert run.rc == 0 and run.changed_tasks() == [], run.changed_tasks()
        run = automation.run(global_variables("absent"), env)
        assert run.rc == 0, run.output[-3000:]
        assert global_registries(api) == before
    assert refused(seen, automation.user) == []
    mine = [e for e in seen.events if e.user == automation.user]
    assert {(e.verb, e.resource, e.name) for e in mine if e.namespace == "openshift-config"} == {
        ("get", "secrets", "pull-secret"), ("update", "secrets", "pull-secret")}
    cluster_reads = {(e.verb, e.resource, e.name, e.code) for e in mine if e.namespace is None}
    assert ("get", "infrastructures", "cluster", 200) in cluster_reads  # the hosted control plane guard ran
    assert ("list", "machineconfigpools", None, 200) in cluster_reads


@pytest.mark.xdist_group("global_pull_secret")
def test_cluster_pull_secret_backups_need_the_backup_role(api, automation, global_pull_secret):
    bind_global(automation, backup_role=None)
    env = automation.env()
    run = automation.run(global_variables(backup=True), env)
    assert run.rc != 0
    _task, message = failure_of(run)
    assert "secrets" in message and re.search(r"forbidden", message, re.I), message[:3000]
    assert GLOBAL_REGISTRY not in global_registries(api), "a failed backup must leave the pull secret unchanged"

    automation.bind_in(BACKUP_ROLE, [])
    run = automation.run(global_variables(backup=True), env)
    assert run.rc == 0, run.output[-3000:]
    run = automation.run(global_variables("absent", backup=True), env)
    assert run.rc == 0, run.output[-3000:]
    assert "pruning" not in run.output, run.output[-3000:]
    assert len(backup_names(api)) == 1


GLOBAL_REQUIRED = [
    ("role", ("secrets", "get")),
    ("role", ("secrets", "update")),
    ("backup", ("secrets", "create")),
    ("cluster", ("machineconfigpools", "list")),
]


@pytest.mark.xdist_group("global_pull_secret")
@pytest.mark.parametrize("which, right", GLOBAL_REQUIRED, ids=["%s-%s-%s" % (w, r[0], r[1]) for w, r in GLOBAL_REQUIRED])
def test_cluster_pull_secret_without_one_right_fails_with_forbidden(api, automation, global_pull_secret, mco, which, right):
    # the backup Role (get and update on every Secret of openshift-config) is bound only to test its own rights
    backup = which == "backup"
    roles = dict(role=GLOBAL_ROLE, backup_role=BACKUP_ROLE if backup else None, cluster_role=GLOBAL_CLUSTER_ROLE)
    key = {"role": "role", "backup": "backup_role", "cluster": "cluster_role"}[which]
    roles[key] = without(roles[key], *right)
    bind_global(automation, **roles)
    before = global_registries(api)
    run = automation.run(global_variables(backup=backup, wait=True))
    assert run.rc != 0, run.output[-3000:]
    _task, message = failure_of(run)
    assert right[0] in message and re.search(r"forbidden", message, re.I), message[:3000]
    assert automation.user in message
    assert global_registries(api) == before


@pytest.mark.xdist_group("global_pull_secret")
@pytest.mark.parametrize("verb", ["list", "delete"])
def test_cluster_pull_secret_without_pruning_rights_updates_and_warns(api, automation, global_pull_secret, verb):
    bind_global(automation, backup_role=without(BACKUP_ROLE, "secrets", verb))
    env = automation.env()
    run = automation.run(global_variables(backup=True), env)
    assert run.rc == 0, run.output[-3000:]
    run = automation.run(global_variables("absent", backup=True), env)  # a second backup: one to prune
    assert run.rc == 0, run.output[-3000:]
    assert GLOBAL_REGISTRY not in global_registries(api)
    assert re.search(r"pruning its old backups failed: .*forbidden", run.output, re.I | re.S), run.output[-3000:]


# -- audit: read-only, per project, plus the global pull secret --------------------------------------------------

AUDIT_ROLE = manifest("audit-clusterrole.yaml", "ClusterRole", "ocp-registry-access-audit")
AUDIT_GLOBAL_ROLE = manifest("audit-global-pull-secret-role.yaml", "Role", "ocp-registry-access-audit-global-pull-secret")
AUDIT_PASSWORD = register_secret("fake-rbac-audit-pass-2f6a")
AUDIT_REQUIRED = [("namespaces", "get"), ("secrets", "get"), ("secrets", "list"), ("serviceaccounts", "list"),
                  ("rolebindings", "list")]
AUDIT_FALLBACK_PROBES = {("list", "namespaces", "-"), ("list", "secrets", "-"), ("list", "serviceaccounts", "-"),
                         ("list", "rolebindings", "-")}


@pytest.fixture
def audited(api, apps):
    """apps as an administrator set them up: a pull secret linked to default everywhere, a dangling reference in
    the first (so the audit reads the referenced secret), the first's service accounts allowed to pull from the second."""
    config = {"auths": {"registry.example.com": {"username": "audited", "password": AUDIT_PASSWORD}}}
    for ns in apps:
        api.create("/api/v1/namespaces/%s/secrets" % ns, {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET}, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}})
        references = [{"name": SECRET}] + ([{"name": "gone-secret"}] if ns == apps[0] else [])
        api.patch("/api/v1/namespaces/%s/serviceaccounts/default" % ns, {"imagePullSecrets": references})
    api.create("%s/namespaces/%s/rolebindings" % (RBAC, apps[1]), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "system:image-puller"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts:" + apps[0]}]})
    return apps


def audit_variables(apps, home, can_pull=True):
    return {"audit_namespaces": apps, "audit_report_dir": str(home / "reports"), "audit_report_name": "rbac",
            "audit_can_pull": [{"service_account": "%s:default" % apps[0], "from_namespace": apps[1]}] if can_pull else []}


def test_audit_role_rights_are_each_required():
    assert rights(AUDIT_ROLE) == sorted(AUDIT_REQUIRED)
    assert not {verb for _resource, verb in rights(AUDIT_ROLE)} - {"get", "list"}
    assert AUDIT_GLOBAL_ROLE["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["pull-secret"],
                                           "verbs": ["get"]}]


def test_audit_runs_read_only_with_rolebindings_in_its_projects(api, audit, automation, audited, tmp_path):
    automation.bind_in(AUDIT_ROLE, audited)
    automation.bind_in(AUDIT_GLOBAL_ROLE, [])
    automation.bind_in(REVIEW_ROLE, [audited[1]])  # where the can_pull question asks, no cluster-wide right
    with audit.capture() as seen:
        run = automation.run(audit_variables(audited, tmp_path), playbook=AUDIT)
    assert run.rc == 0, run.output[-3000:]
    report = json.loads((tmp_path / "reports" / "rbac.json").read_text())
    assert [ns["name"] for ns in report["namespaces"]] == sorted(audited)
    assert all([s["name"] for s in ns["pull_secrets"]] == [SECRET] for ns in report["namespaces"])
    assert report["global_pull_secret"]["readable"]
    assert [(c["allowed"], c["from_namespace"]) for c in report["can_pull"]] == [(True, audited[1])]
    assert "dangling" in json.dumps(report["problems"]) or "gone-secret" in json.dumps(report["problems"]), report["problems"]

    mine = [e for e in seen.events if e.user == automation.user]
    assert {(e.verb, e.resource, e.namespace) for e in mine
            if e.verb in ("create", "update", "patch", "delete", "deletecollection")} == {
        ("create", "localsubjectaccessreviews", audited[1])}
    assert set(refused(seen, automation.user)) <= AUDIT_FALLBACK_PROBES, refused(seen, automation.user)
    assert ("get", "secrets", audited[0]) in {(e.verb, e.resource, e.namespace) for e in mine if e.code == 404}


@pytest.mark.parametrize("right", AUDIT_REQUIRED, ids=["%s-%s" % r for r in AUDIT_REQUIRED])
def test_audit_without_one_right_fails_with_forbidden(automation, audited, tmp_path, right):
    automation.bind_in(without(AUDIT_ROLE, *right), audited)
    automation.bind_in(AUDIT_GLOBAL_ROLE, [])
    run = automation.run(audit_variables(audited, tmp_path, can_pull=False), playbook=AUDIT)
    assert run.rc != 0, run.output[-3000:]
    _task, message = failure_of(run)
    assert right[0] in message and re.search(r"forbidden", message, re.I), message[:3000]
    assert automation.user in message


def test_audit_can_pull_needs_the_subject_access_review_right(automation, audited, tmp_path):
    automation.bind_in(AUDIT_ROLE, audited)
    automation.bind_in(AUDIT_GLOBAL_ROLE, [])
    run = automation.run(audit_variables(audited, tmp_path), playbook=AUDIT)
    assert run.rc != 0, run.output[-3000:]
    _task, message = failure_of(run)
    assert "localsubjectaccessreviews" in message and re.search(r"forbidden", message, re.I), message[:3000]
    assert "in namespace %s" % audited[1] in message, message[:3000]


def test_audit_without_the_global_role_reports_the_global_pull_secret_unreadable(automation, audited, tmp_path):
    automation.bind_in(AUDIT_ROLE, audited)
    run = automation.run(audit_variables(audited, tmp_path, can_pull=False), playbook=AUDIT)
    assert run.rc == 0, run.output[-3000:]
    report = json.loads((tmp_path / "reports" / "rbac.json").read_text())
    assert not report["global_pull_secret"]["readable"]
    assert re.search(r"forbidden", report["global_pull_secret"]["reason"], re.I)
    assert "not readable (forbidden" in run.output

"""No one let in: after enforce.yml on a declared state, the API server's own answers (SubjectAccessReview)
over subjects x namespaces x verbs are exactly what was declared on top of what was there before; after
project_access_state: absent, exactly what was there before.

Declared (the seed's two commands): project-a's default service account may pull from project-b, and
every service account of project-c may pull from project-b; plus a pull secret in project-b linked to
its default service account. Not declared, made by hand beforehand and expected to survive: a
RoleBinding in project-b that lets project-d's default service account pull, and one in project-a
that lets project-a's builder read secrets (a Role of its own).
"""

import itertools

import pytest

from helpers.runner import register_secret, run_playbook

ENFORCE = "playbooks/enforce.yml"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
PASSWORD = register_secret("fake-rel-sar-pass-0b7a")
# (verb, resource, subresource, API group)
CHECKS = [
    ("get", "imagestreams", "layers", "image.openshift.io"),
    ("get", "imagestreams", "layers", ""),
    ("update", "imagestreams", "layers", "image.openshift.io"),
    ("get", "secrets", "", ""),
    ("create", "rolebindings", "", "rbac.authorization.k8s.io"),
]


@pytest.fixture
def projects(api, namespace_factory):
    names = dict((key, namespace_factory("project-%s" % key, wait_for_default_sa=True)) for key in "abcd")
    for key, sa in (("a", "builder"), ("c", "deployer")):
        api.create("/api/v1/namespaces/%s/serviceaccounts" % names[key],
                   {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa}})
    return names


def binding(name, role, subject):
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": [subject]}


def service_accounts(p):
    return [(p["a"], "default"), (p["a"], "builder"), (p["c"], "default"), (p["c"], "deployer"), (p["d"], "default")]


def matrix(api, p):
    """{(subject, namespace, check): allowed} as the API server's authorizer answers."""
    answers = {}
    for (ns, sa), target, check in itertools.product(service_accounts(p), [p["b"], p["a"], p["c"], p["d"]], CHECKS):
        verb, resource, subresource, group = check
        answers[("%s:%s" % (ns, sa), target, check)] = api.can_i(
            verb, resource, target, group=group, subresource=subresource, user="system:serviceaccount:%s:%s" % (ns, sa),
            groups=["system:serviceaccounts", "system:serviceaccounts:%s" % ns, "system:authenticated"])
    return answers


def declared_grants(p):
    """What the declaration grants: pulls (get imagestreams/layers, in both API groups) from project-b."""
    grants = set()
    for subject, _sa in [("%s:default" % p["a"], None)] + [("%s:%s" % (p["c"], sa), None) for sa in ("default", "deployer")]:
        for check in CHECKS[:2]:
            grants.add((subject, p["b"], check))
    return grants


def state(api, p):
    """The objects the roles could touch, as comparable values."""
    out = {}
    for ns in p.values():
        out[ns] = {
            "rolebindings": sorted((b["metadata"]["name"], b["roleRef"]["name"], str(b.get("subjects")))
                                   for b in api.get("%s/namespaces/%s/rolebindings" % (RBAC, ns))["items"]),
            "secrets": sorted(s["metadata"]["name"] for s in api.get("/api/v1/namespaces/%s/secrets" % ns)["items"]),
            "service_accounts": sorted((s["metadata"]["name"], str(s.get("imagePullSecrets")), str(s.get("secrets")))
                                       for s in api.get("/api/v1/namespaces/%s/serviceaccounts" % ns)["items"]),
        }
    return out


def test_enforce_grants_exactly_the_declared_access_and_absent_takes_back_exactly_that(api, cluster, projects, figures):
    p = projects
    api.create("%s/namespaces/%s/rolebindings" % (RBAC, p["b"]), binding(
        "by-hand-puller", "system:image-puller", {"kind": "ServiceAccount", "name": "default", "namespace": p["d"]}))
    api.create("%s/namespaces/%s/roles" % (RBAC, p["a"]), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "secret-reader"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]})
    api.create("%s/namespaces/%s/rolebindings" % (RBAC, p["a"]), dict(binding(
        "by-hand-secret-reader", "secret-reader", {"kind": "ServiceAccount", "name": "builder", "namespace": p["a"]}),
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"}))
    before, objects_before = matrix(api, p), state(api, p)
    assert before[("%s:default" % p["d"], p["b"], CHECKS[0])], "the binding made by hand grants a pull"
    assert before[("%s:builder" % p["a"], p["a"], CHECKS[3])], "the binding made by hand grants reading secrets"
    assert sum(before.values()) == 3, "unexpected access before the run: %s" % sorted(k for k in before if before[k])

    declared = {
        "registry_access_kubeconfig": cluster.kubeconfig,
        "project_access_pull_secrets": [{"name": "private-registry", "namespace": p["b"], "service_accounts": ["default"],
                                         "registries": [{"server": "privateregistry.example.com", "username": "developer",
                                                         "password": PASSWORD}]}],
        "project_access_image_pullers": [
            {"image_namespace": p["b"], "service_accounts": ["system:serviceaccount:%s:default" % p["a"]], "verify": True},
            {"image_namespace": p["b"], "all_service_accounts_in": [p["c"]], "verify": True},
        ],
    }
    run = run_playbook(ENFORCE, extra_vars=[declared])
    assert run.rc == 0, run.output[-3000:]
    after = matrix(api, p)
    expected = dict((key, allowed or key in declared_grants(p)) for key, allowed in before.items())
    extra = sorted(k for k in after if after[k] and not expected[k])
    missing = sorted(k for k in after if expected[k] and not after[k])
    assert not extra, "access nobody declared: %s" % extra
    assert not missing, "declared access missing: %s" % missing

    run = run_playbook(ENFORCE, extra_vars=[declared, {"project_access_state": "absent"}])
    assert run.rc == 0, run.output[-3000:]
    gone = matrix(api, p)
    changed = sorted(k for k in gone if gone[k] != before[k])
    assert not changed, "after absent the access differs from before: %s" % changed
    assert state(api, p) == objects_before, "absent changed objects it did not declare"

    figures["no_one_let_in"] = {
        "subjects": len(service_accounts(p)), "namespaces": 4, "checks": len(CHECKS),
        "reviews_per_matrix": len(after), "declared_grants": len(declared_grants(p)),
        "extra_access_after_enforce": len(extra), "missing_after_enforce": len(missing),
        "differences_after_absent": len(changed), "undeclared_bindings_kept": 2,
    }

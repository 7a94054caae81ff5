"""A pod in project-a pulls project-b's image from the "integrated registry" only while image_puller_binding grants it.

The registry is the simulator of tests/helpers/integrated_registry.py: it takes the service
account token from the `<sa>-dockercfg-*` secret the kubelet sends, checks it with a TokenReview
and asks a SubjectAccessReview for `get imagestreams/layers` in project-b, as OpenShift's registry
does. The secrets come from the simulated service account pull secret controller, with real
TokenRequest tokens. What the pod's events say (401) is checked against whom the registry saw.
"""

import pytest

from helpers.integrated_registry import IntegratedRegistry, provision_dockercfg
from helpers.pods import assert_refused_401, assert_runs
from helpers.runner import run_module


@pytest.fixture(scope="module")
def integrated_registry(api, node, tmp_path_factory):
    registry = IntegratedRegistry(api, tmp_path_factory.mktemp("integrated")).start()
    node.trust_registry(registry.host, registry.ca_cert)
    yield registry
    registry.stop()


@pytest.fixture
def projects(api, namespace_factory, integrated_registry, image_layout):
    """project-b holding image `app`; project-a whose `default` and `builder` service accounts have their
    dockercfg secrets for the integrated registry. Returns (project_a, project_b, image)."""
    project_a, project_b = namespace_factory("project-a"), namespace_factory("project-b")
    integrated_registry.add_repository(project_b + "/app", image_layout)
    api.create("/api/v1/namespaces/%s/serviceaccounts" % project_a,
               {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"}})
    for sa in ("default", "builder"):
        provision_dockercfg(api, project_a, sa, integrated_registry.host)
    return project_a, project_b, "%s/%s/app:latest" % (integrated_registry.host, project_b)


def binding(connection, project_b, state="present", **subjects):
    run = run_module("image_puller_binding", dict(connection, namespace=project_b, state=state, **subjects))
    assert not run.failed, "image_puller_binding failed (rc %d): %s" % (run.rc, run.msg)
    assert run.changed
    return run


def audit_answers(connection, project_a, project_b):
    """registry_access_info's can_pull answer for project-a's default and builder: {service account: allowed}."""
    run = run_module("registry_access_info", dict(connection, namespace=project_b, include_global=False, can_pull=[
        dict(service_account="%s:%s" % (project_a, sa), from_namespace=project_b) for sa in ("default", "builder")]))
    assert not run.failed, "registry_access_info failed (rc %d): %s" % (run.rc, run.msg)
    return {sa: answer["allowed"] for sa, answer in zip(("default", "builder"), run.result["can_pull"])}


def registry_answers(integrated_registry, project_a, repository):
    """The registry's last decision for each of project-a's service accounts that it saw: {service account: allowed}."""
    answers = {}
    for user, allowed in integrated_registry.decisions(repository):
        if user and user.startswith("system:serviceaccount:%s:" % project_a):
            answers[user.rsplit(":", 1)[1]] = allowed
    return answers


def test_service_account_pulls_another_projects_image_only_while_granted(api, connection, node, projects,
                                                                         integrated_registry, timings):
    project_a, project_b, image = projects
    repository = project_b + "/app"
    default_sa = "system:serviceaccount:%s:default" % project_a

    outcome = assert_refused_401(api, project_a, node, image)
    assert outcome.pod["spec"]["imagePullSecrets"][0]["name"].startswith("default-dockercfg-")
    assert (default_sa, False) in integrated_registry.decisions(repository)

    binding(connection, project_b, service_accounts=["%s:default" % project_a])
    assert_runs(api, project_a, node, image, timings)
    assert (default_sa, True) in integrated_registry.decisions(repository)
    # Only that service account: another one of project-a is still refused.
    assert_refused_401(api, project_a, node, image, service_account="builder")
    assert ("system:serviceaccount:%s:builder" % project_a, False) in integrated_registry.decisions(repository)
    # The audit's answer is the registry's: the same question (get imagestreams/layers in project-b), the same result.
    assert audit_answers(connection, project_a, project_b) == registry_answers(integrated_registry, project_a, repository) \
        == {"default": True, "builder": False}

    binding(connection, project_b, state="absent", service_accounts=["%s:default" % project_a])
    before = len(integrated_registry.decisions(repository))
    assert_refused_401(api, project_a, node, image)
    # containerd's first request of a pull carries no credential (it waits for the challenge): not counted.
    seen = {d for d in integrated_registry.decisions(repository)[before:] if d[0] is not None}
    assert seen == {(default_sa, False)}
    assert audit_answers(connection, project_a, project_b) == {"default": False, "builder": False}


def test_revoke_does_not_reach_an_image_the_node_pulled_with_the_same_secret(api, connection, node, projects,
                                                                             integrated_registry, timings):
    """What a revocation does not undo: the kubelet lets a pod use an image on the node without asking the
    registry when the pod's secret is one it already pulled that image with (KubeletEnsureSecretPulledImages
    checks the credential, not today's RBAC). Only pulls that reach the registry see the revocation."""
    project_a, project_b, image = projects
    repository = project_b + "/app"
    binding(connection, project_b, service_accounts=["%s:default" % project_a])
    assert_runs(api, project_a, node, image, timings)
    binding(connection, project_b, state="absent", service_accounts=["%s:default" % project_a])

    before = len(integrated_registry.decisions(repository))
    assert_runs(api, project_a, node, image, timings, policy="IfNotPresent")
    assert integrated_registry.decisions(repository)[before:] == [], "the kubelet should not have asked the registry"
    assert_refused_401(api, project_a, node, image, policy="Always")
    # A service account whose secret never pulled the image is refused even with IfNotPresent.
    assert_refused_401(api, project_a, node, image, policy="IfNotPresent", service_account="builder")


def test_whole_project_group_pulls_only_while_granted(api, connection, node, projects, integrated_registry, timings):
    project_a, project_b, image = projects
    for sa in ("default", "builder"):
        assert_refused_401(api, project_a, node, image, service_account=sa)

    binding(connection, project_b, all_service_accounts_in=[project_a])
    for sa in ("default", "builder"):
        assert_runs(api, project_a, node, image, timings, service_account=sa)

    binding(connection, project_b, state="absent", all_service_accounts_in=[project_a])
    for sa in ("default", "builder"):
        assert_refused_401(api, project_a, node, image, service_account=sa)

"""pull_secret's wait_for: provisioned against OpenShift's two ways of provisioning a service account's
integrated-registry pull secret, as tests/helpers/simulators.py plays them on the local cluster:

- up to 4.15 the controller names the Secret naming.GetName(<sa>, "dockercfg-", 58) + 5 random characters
  (a name longer than 47 characters is cut to 38 and hashed), creates it with its token, then links it;
- from 4.16 the annotation and the references come first, the Secret later with "{}", the token later still.

The module may return only once the pull secret a pod would use is there and holds a credential.
"""

import base64
import json

import pytest

from helpers.runner import register_secret, run_module
from helpers.simulators import BOUND, LEGACY, DockercfgProvisioner, dockercfg_name_prefix

PASSWORD = register_secret("fake-prov-pass-2b7e")
CONTROLLER_TOKEN = register_secret("fake-prov-controller-token-a41c")
MODULE_AGENT = "ocp.registry_access/"
SIMULATOR_AGENT = "openshift-controller-manager-simulator"
LONG_NAME = "a-service-account-whose-name-is-longer-than-forty-seven"  # 55 characters


def sa_path(ns, name):
    return "/api/v1/namespaces/%s/serviceaccounts/%s" % (ns, name)


def secret_path(ns, name):
    return "/api/v1/namespaces/%s/secrets/%s" % (ns, name)


def registry():
    return dict(server="registry.example.com", username="robot", password=PASSWORD)


def create_sa(api, ns, name):
    api.create("/api/v1/namespaces/%s/serviceaccounts" % ns,
               {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})


def controller_credential(secret):
    """The token OpenShift's pull secret carries, if any (the .dockercfg document of the Secret)."""
    document = json.loads(base64.b64decode(secret["data"][".dockercfg"]))
    for entry in document.values():
        if entry.get("password"):
            return entry["password"]
        if entry.get("auth"):
            return base64.b64decode(entry["auth"]).decode().split(":", 1)[1]
    return None


@pytest.mark.parametrize("version", [LEGACY, BOUND])
@pytest.mark.parametrize("sa_name", ["pipeline", LONG_NAME], ids=["short-name", "long-name"])
def test_wait_for_provisioned_returns_only_once_the_pull_secret_holds_its_token(
        api, audit, connection, namespace, version, sa_name):
    assert len(LONG_NAME) > 47
    # 4.16+: the Secret and its token come well after the reference, longer than the module takes to start
    provisioner = DockercfgProvisioner(api, namespace, delay=0.5, version=version, secret_delay=4.0, token_delay=4.0,
                                       token=CONTROLLER_TOKEN, only=[sa_name])
    provisioner.start()
    try:
        create_sa(api, namespace, sa_name)
        with audit.capture() as seen:
            run = run_module("pull_secret", dict(connection, name="private", namespace=namespace, registries=[registry()],
                                                 service_accounts=[sa_name], wait_for="provisioned", wait_timeout=40))
    finally:
        provisioner.stop()
    assert not run.failed, run.msg
    assert provisioner.errors == []
    generated = provisioner.provisioned[sa_name]
    assert generated.startswith(dockercfg_name_prefix(sa_name)) and len(generated) <= 63
    if sa_name == LONG_NAME:
        assert not generated.startswith(sa_name)  # the shortened, hashed form
    # what a pod would use is there, complete, when the module links its own secret
    assert controller_credential(api.get(secret_path(namespace, generated))) == CONTROLLER_TOKEN
    refs = [r["name"] for r in api.get(sa_path(namespace, sa_name))["imagePullSecrets"]]
    assert refs == [generated, "private"]
    events = seen.writes(namespaces=[namespace])
    controller_done = max(i for i, e in enumerate(events) if e.user_agent == SIMULATOR_AGENT and e.resource == "secrets")
    module_writes = [i for i, e in enumerate(events) if (e.user_agent or "").startswith(MODULE_AGENT)]
    assert module_writes and min(module_writes) > controller_done, seen.summary(events)


def test_wait_for_provisioned_does_not_take_an_empty_pull_secret(api, audit, connection, namespace):
    """4.16+: the annotation, the reference and a Secret holding "{}" are not a usable pull secret yet."""
    provisioner = DockercfgProvisioner(api, namespace, delay=0.2, version=BOUND, secret_delay=0.2, token_delay=3600,
                                       token=CONTROLLER_TOKEN, only=["builder"])
    provisioner.start()
    try:
        create_sa(api, namespace, "builder")
        api.wait_for(sa_path(namespace, "builder"), lambda sa: "builder" in provisioner.secret_created_at, timeout=30)
        with audit.capture() as seen:
            run = run_module("pull_secret", dict(connection, name="private", namespace=namespace, registries=[registry()],
                                                 service_accounts=["builder"], wait_for="provisioned", wait_timeout=3))
    finally:
        provisioner.stop()
    assert run.failed
    assert "timed out after 3s" in run.msg
    assert "%s/builder: its pull secret %s holds no registry credential yet" % (
        namespace, provisioner.provisioned["builder"]) in run.msg
    assert seen.writes(namespaces=[namespace], user_agent_prefix=MODULE_AGENT) == []


def test_wait_for_provisioned_does_not_take_a_reference_to_a_missing_secret(api, audit, connection, namespace):
    """4.16+: the annotation and the reference come before the Secret (the race the seed warns about)."""
    provisioner = DockercfgProvisioner(api, namespace, delay=0.2, version=BOUND, secret_delay=3600,
                                       token=CONTROLLER_TOKEN, only=["deployer"])
    provisioner.start()
    try:
        create_sa(api, namespace, "deployer")
        api.wait_for(sa_path(namespace, "deployer"), lambda sa: "deployer" in provisioner.provisioned, timeout=30)
        with audit.capture() as seen:
            run = run_module("pull_secret", dict(connection, name="private", namespace=namespace, registries=[registry()],
                                                 service_accounts=["deployer"], wait_for="provisioned", wait_timeout=3))
    finally:
        provisioner.stop()
    assert run.failed
    assert "%s/deployer: its pull secret %s does not exist yet" % (namespace, provisioner.provisioned["deployer"]) in run.msg
    assert seen.writes(namespaces=[namespace], user_agent_prefix=MODULE_AGENT) == []


def test_wait_for_provisioned_explains_a_service_account_never_provisioned(api, connection, namespace):
    """No controller at all (the local cluster's default): the timeout names the prefix OpenShift would use."""
    create_sa(api, namespace, LONG_NAME)
    api.wait_for(sa_path(namespace, LONG_NAME))
    run = run_module("pull_secret", dict(connection, name="private", namespace=namespace, registries=[registry()],
                                         service_accounts=[LONG_NAME], wait_for="provisioned", wait_timeout=2))
    assert run.failed and "timed out after 2s" in run.msg
    assert "%s/%s: no pull secret yet" % (namespace, LONG_NAME) in run.msg
    assert dockercfg_name_prefix(LONG_NAME) in run.msg


def test_wait_for_provisioned_in_check_mode_waits_and_writes_nothing(api, audit, connection, namespace):
    provisioner = DockercfgProvisioner(api, namespace, delay=0.5, version=BOUND, secret_delay=1.0, token_delay=1.0,
                                       token=CONTROLLER_TOKEN, only=["pipeline"])
    provisioner.start()
    try:
        create_sa(api, namespace, "pipeline")
        with audit.capture() as seen:
            run = run_module("pull_secret", dict(connection, name="private", namespace=namespace, registries=[registry()],
                                                 service_accounts=["pipeline"], wait_for="provisioned", wait_timeout=40),
                             check=True)
    finally:
        provisioner.stop()
    assert not run.failed, run.msg
    assert run.changed
    assert "pipeline" in provisioner.ready
    assert seen.writes(namespaces=[namespace], user_agent_prefix=MODULE_AGENT) == []

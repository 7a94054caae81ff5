"""pull_secret against the real local cluster: the seed's commands, kubectl parity, check mode,
idempotence (proven by the audit log), linking under concurrency and bad input."""

import base64
import json
import subprocess
import threading

import pytest

from helpers.audit import describe
from helpers.kube import unique
from helpers.runner import register_secret, run_module
from helpers.simulators import DockercfgProvisioner

PASSWORD = register_secret("fake-ps-pass-91c2<&>")
OTHER_PASSWORD = register_secret("fake-ps-pass-other-77d1")
MODULE_AGENT = "ocp.registry_access/"


def secret_path(ns, name):
    return "/api/v1/namespaces/%s/secrets/%s" % (ns, name)


def sa_path(ns, name):
    return "/api/v1/namespaces/%s/serviceaccounts/%s" % (ns, name)


def decoded(secret, key=".dockerconfigjson"):
    return base64.b64decode(secret["data"][key])


def private_registry(**extra):
    entry = dict(server="privateregistry.example.com", username="developer@example.com", password=PASSWORD, email="unused")
    entry.update(extra)
    return entry


def write_events(seen, namespaces):
    return seen.summary(seen.writes(namespaces=namespaces, user_agent_prefix=MODULE_AGENT))


# -- the seed's commands -----------------------------------------------------------------------


def test_docker_registry_secret_is_byte_identical_to_kubectl(api, audit, connection, namespace, kubectl):
    """oc create secret docker-registry <name> --docker-server --docker-username --docker-password --docker-email"""
    with audit.capture() as seen:
        run = run_module("pull_secret", dict(connection, name="private-registry", namespace=namespace,
                                             registries=[private_registry()]))
    assert run.result["secrets"] == [dict(namespace=namespace, name="private-registry", action="created",
                                          registries=["privateregistry.example.com"],
                                          fingerprint=run.result["secrets"][0]["fingerprint"], ownership="created")]
    assert write_events(seen, [namespace]) == ["create secrets %s/private-registry 201" % namespace]
    others = [e for e in seen.select(namespaces=[namespace]) if not (e.user_agent or "").startswith(MODULE_AGENT)]
    assert others == [], "requests in %s during the run that the module did not send: %s" % (namespace, describe(others))

    secret = api.get(secret_path(namespace, "private-registry"))
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ocp.registry_access"
    reference = subprocess.run(kubectl + [
        "create", "secret", "docker-registry", "private-registry", "--docker-server=privateregistry.example.com",
        "--docker-username=developer@example.com", "--docker-password=" + PASSWORD, "--docker-email=unused",
        "--dry-run=client", "-o", "json"], capture_output=True, text=True, check=True)
    expected = decoded(json.loads(reference.stdout))
    assert decoded(secret) == expected
    assert json.loads(expected)["auths"]["privateregistry.example.com"]["password"] == PASSWORD


def test_secrets_link_default_for_pull_keeps_entries_added_by_others(api, audit, connection, namespace):
    """oc secrets link default <pull_secret_name> --for=pull"""
    sa = api.wait_for(sa_path(namespace, "default"))
    sa["imagePullSecrets"] = [{"name": "default-dockercfg-abcde"}]
    sa["secrets"] = [{"name": "default-dockercfg-abcde"}]
    api.replace(sa_path(namespace, "default"), sa)

    with audit.capture() as seen:
        run = run_module("pull_secret", dict(connection, name="private-registry", namespace=namespace,
                                             registries=[private_registry()], service_accounts=["default"]))
    assert run.result["service_accounts"] == [dict(namespace=namespace, name="default", linked_for=["pull"], action="linked")]
    sa = api.get(sa_path(namespace, "default"))
    assert sa["imagePullSecrets"] == [{"name": "default-dockercfg-abcde"}, {"name": "private-registry"}]
    assert sa["secrets"] == [{"name": "default-dockercfg-abcde"}]
    # read-modify-write: an update (PUT with resourceVersion), never a patch of the list
    assert "update serviceaccounts %s/default 200" % namespace in write_events(seen, [namespace])
    assert not seen.select(namespaces=[namespace], verbs={"patch"})


def test_link_for_mount_and_pull(api, connection, namespace):
    api.wait_for(sa_path(namespace, "default"))
    run = run_module("pull_secret", dict(connection, name="both", namespace=namespace, registries=[private_registry()],
                                         service_accounts=["default"], link_for=["pull", "mount"]))
    assert run.result["service_accounts"][0]["linked_for"] == ["pull", "mount"]
    sa = api.get(sa_path(namespace, "default"))
    assert {"name": "both"} in sa["imagePullSecrets"] and {"name": "both"} in sa["secrets"]


def test_secret_from_dockercfg_file(api, connection, namespace, kubectl, tmp_path):
    """oc create secret generic <name> --from-file=.dockercfg=<path> --type=kubernetes.io/dockercfg"""
    auth = base64.b64encode(b"legacy-user:" + OTHER_PASSWORD.encode()).decode()
    path = tmp_path / ".dockercfg"
    path.write_text(json.dumps({"registry.example.com:5000": {"auth": auth, "email": "legacy@example.com"}}))
    run = run_module("pull_secret", dict(connection, name="legacy", namespace=namespace, type="dockercfg", src=str(path)))
    assert run.result["secrets"][0]["action"] == "created"
    secret = api.get(secret_path(namespace, "legacy"))
    assert secret["type"] == "kubernetes.io/dockercfg"
    reference = subprocess.run(kubectl + ["create", "secret", "generic", "legacy", "--from-file=.dockercfg=%s" % path,
                                          "--type=kubernetes.io/dockercfg", "--dry-run=client", "-o", "json"],
                               capture_output=True, text=True, check=True)
    theirs = json.loads(decoded(json.loads(reference.stdout), ".dockercfg"))
    ours = json.loads(decoded(secret, ".dockercfg"))
    assert ours["registry.example.com:5000"]["auth"] == theirs["registry.example.com:5000"]["auth"]
    assert ours["registry.example.com:5000"]["email"] == "legacy@example.com"
    assert "auths" not in ours


def test_secret_from_config_json(api, connection, namespace, tmp_path):
    """oc create secret generic <name> --from-file=.dockerconfigjson=<path/to/.docker/config.json> --type=kubernetes.io/dockerconfigjson"""
    auth = base64.b64encode(b"me:" + OTHER_PASSWORD.encode()).decode()
    config = {"auths": {"quay.io": {"auth": auth, "email": "you@example.com"},
                        "quay.io/repository-main": {"auth": auth, "email": "you@example.com"}}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config, indent=2))
    run_module("pull_secret", dict(connection, name="from-config", namespace=namespace, src=str(path)))
    secret = api.get(secret_path(namespace, "from-config"))
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert json.loads(decoded(secret)) == config


def test_delegated_authentication_two_secrets(api, connection, namespace):
    """The seed's redhat-connect-sso and private-registry secrets, both linked to default."""
    api.wait_for(sa_path(namespace, "default"))
    for name, server in (("redhat-connect-sso", "sso.redhat.com"), ("private-registry", "privateregistry.example.com")):
        run = run_module("pull_secret", dict(connection, name=name, namespace=namespace, service_accounts=["default"],
                                             registries=[private_registry(server=server)]))
        assert run.result["secrets"][0]["registries"] == [server]
    refs = api.get(sa_path(namespace, "default"))["imagePullSecrets"]
    assert [r["name"] for r in refs] == ["redhat-connect-sso", "private-registry"]


# -- check mode, idempotence, diff ---------------------------------------------------------------


def test_check_apply_check_apply(api, audit, connection, namespace):
    api.wait_for(sa_path(namespace, "default"))
    args = dict(connection, name="private-registry", namespace=namespace, registries=[private_registry()],
                service_accounts=["default"], labels={"team": "payments"})

    with audit.capture() as seen:
        run = run_module("pull_secret", args, check=True)
    assert run.changed and run.result["secrets"][0]["action"] == "created"
    assert run.result["diff"]["after"][namespace]["secret"]["registries"][0]["username"] == "developer@example.com"
    assert write_events(seen, [namespace]) == []
    assert api.get_or_none(secret_path(namespace, "private-registry")) is None

    with audit.capture() as seen:
        run = run_module("pull_secret", args)
    assert run.changed
    assert write_events(seen, [namespace]) == ["create secrets %s/private-registry 201" % namespace,
                                               "update serviceaccounts %s/default 200" % namespace]
    assert api.get(secret_path(namespace, "private-registry"))["metadata"]["labels"]["team"] == "payments"

    for check in (True, False):
        with audit.capture() as seen:
            run = run_module("pull_secret", args, check=check)
        assert not run.changed, run.result
        assert run.result["secrets"][0]["action"] == "unchanged"
        assert run.result["service_accounts"][0]["action"] == "unchanged"
        assert write_events(seen, [namespace]) == []


def test_same_registry_spelled_differently_is_not_rewritten(api, audit, connection, namespace):
    args = dict(connection, name="hub", namespace=namespace,
                registries=[private_registry(server="https://index.docker.io/v1/")])
    run_module("pull_secret", args)
    args["registries"] = [private_registry(server="index.docker.io")]
    with audit.capture() as seen:
        run = run_module("pull_secret", args)
    assert not run.changed
    assert write_events(seen, [namespace]) == []


def test_password_change_updates_and_changes_fingerprint(api, connection, namespace):
    args = dict(connection, name="rotate", namespace=namespace, registries=[private_registry()])
    first = run_module("pull_secret", args).result["secrets"][0]
    args["registries"] = [private_registry(password=OTHER_PASSWORD)]
    second = run_module("pull_secret", args, diff=True)
    assert second.result["secrets"][0]["action"] == "updated"
    assert second.result["secrets"][0]["fingerprint"] != first["fingerprint"]
    stored = json.loads(decoded(api.get(secret_path(namespace, "rotate"))))
    assert stored["auths"]["privateregistry.example.com"]["password"] == OTHER_PASSWORD


def test_merge_keeps_other_registries(api, connection, namespace):
    run_module("pull_secret", dict(connection, name="merged", namespace=namespace, registries=[private_registry()]))
    run = run_module("pull_secret", dict(connection, name="merged", namespace=namespace, merge=True,
                                         registries=[private_registry(server="quay.io/my-org")]))
    assert run.result["secrets"][0]["registries"] == ["privateregistry.example.com", "quay.io/my-org"]
    stored = json.loads(decoded(api.get(secret_path(namespace, "merged"))))
    assert sorted(stored["auths"]) == ["privateregistry.example.com", "quay.io/my-org"]
    # merge: false makes it hold exactly what is given
    run_module("pull_secret", dict(connection, name="merged", namespace=namespace, registries=[private_registry()]))
    assert sorted(json.loads(decoded(api.get(secret_path(namespace, "merged"))))["auths"]) == ["privateregistry.example.com"]


def test_type_change_needs_force(api, audit, connection, namespace):
    run_module("pull_secret", dict(connection, name="typed", namespace=namespace, registries=[private_registry()]))
    args = dict(connection, name="typed", namespace=namespace, type="dockercfg", registries=[private_registry()])
    with audit.capture() as seen:
        run = run_module("pull_secret", args)
    assert run.failed and "force: true" in run.msg and "kubernetes.io/dockerconfigjson" in run.msg
    assert write_events(seen, [namespace]) == []
    run = run_module("pull_secret", dict(args, force=True))
    assert run.result["secrets"][0]["action"] == "recreated"
    assert api.get(secret_path(namespace, "typed"))["type"] == "kubernetes.io/dockercfg"


def test_absent_deletes_secret_and_removes_only_its_references(api, audit, connection, namespace):
    sa = api.wait_for(sa_path(namespace, "default"))
    sa["imagePullSecrets"] = [{"name": "default-dockercfg-abcde"}]
    api.replace(sa_path(namespace, "default"), sa)
    api.create("/api/v1/namespaces/%s/serviceaccounts" % namespace,
               {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder"}})
    run_module("pull_secret", dict(connection, name="gone", namespace=namespace, registries=[private_registry()],
                                   service_accounts=["default", "builder"], link_for=["pull", "mount"]))
    args = dict(connection, name="gone", namespace=namespace, state="absent")
    with audit.capture() as seen:
        run = run_module("pull_secret", args, check=True)
    assert run.changed and write_events(seen, [namespace]) == []
    run = run_module("pull_secret", args)
    assert run.result["secrets"][0]["action"] == "deleted"
    assert sorted(r["name"] for r in run.result["service_accounts"]) == ["builder", "default"]
    assert api.get_or_none(secret_path(namespace, "gone")) is None
    sa = api.get(sa_path(namespace, "default"))
    assert sa["imagePullSecrets"] == [{"name": "default-dockercfg-abcde"}]
    assert not api.get(sa_path(namespace, "builder")).get("imagePullSecrets")
    with audit.capture() as seen:
        assert not run_module("pull_secret", args).changed
    assert write_events(seen, [namespace]) == []


# -- many namespaces -------------------------------------------------------------------------------


def test_selector_with_exclusions_reads_once_per_kind(api, audit, connection, namespace_factory):
    team = unique("team")
    names = [namespace_factory("sel", labels={"team": team}, wait_for_default_sa=True) for _index in range(4)]
    excluded = namespace_factory("skip", labels={"team": team})
    args = dict(connection, name="team-registry", namespace_selector="team=%s" % team, exclude_namespaces=["skip-*"],
                registries=[private_registry()], service_accounts=["default"])
    with audit.capture() as seen:
        run = run_module("pull_secret", args)
    assert sorted(r["namespace"] for r in run.result["secrets"]) == sorted(names)
    assert api.get_or_none(secret_path(excluded, "team-registry")) is None
    for ns in names:
        assert {"name": "team-registry"} in api.get(sa_path(ns, "default"))["imagePullSecrets"]
    mine = seen.select(user_agent_prefix=MODULE_AGENT)
    # no read per namespace: cluster-wide lists of secrets and service accounts serve them all
    assert [e for e in mine if e.namespace in names and e.verb in ("get", "list")] == []
    assert {e.resource for e in mine if e.verb == "list" and e.namespace is None} >= {"namespaces", "secrets", "serviceaccounts"}
    assert len(seen.writes(namespaces=names)) == 8

    with audit.capture() as seen:
        assert not run_module("pull_secret", args).changed
    assert seen.writes(namespaces=names + [excluded]) == []


def test_missing_namespace_fails_before_any_write(audit, connection, namespace):
    missing = unique("missing")
    with audit.capture() as seen:
        run = run_module("pull_secret", dict(connection, name="x", namespaces=[namespace, missing],
                                             registries=[private_registry()]))
    assert run.failed and missing in run.msg
    assert write_events(seen, [namespace, missing]) == []


# -- service accounts: waiting and concurrency -------------------------------------------------------


def test_wait_for_provisioned_and_concurrent_links_lose_no_entry(api, connection, namespace):
    api.wait_for(sa_path(namespace, "default"))
    provisioner = DockercfgProvisioner(api, namespace, delay=2.0)
    provisioner.start()
    try:
        api.create("/api/v1/namespaces/%s/serviceaccounts" % namespace,
                   {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "pipeline"}})
        results = {}

        def link(i):
            results[i] = run_module("pull_secret", dict(
                connection, name="concurrent-%d" % i, namespace=namespace, registries=[private_registry()],
                service_accounts=["pipeline"], wait_for="provisioned" if i == 0 else "exists", wait_timeout=60))

        threads = [threading.Thread(target=link, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        provisioner.stop()
    assert all(not r.failed for r in results.values()), [r.msg for r in results.values()]
    refs = [r["name"] for r in api.get(sa_path(namespace, "pipeline"))["imagePullSecrets"]]
    assert sorted(refs) == sorted(["concurrent-%d" % i for i in range(4)] + [provisioner.provisioned["pipeline"]])
    # the provisioned wait returned only after the controller linked its secret
    assert provisioner.provisioned["pipeline"] in refs


def test_wait_for_provisioned_times_out_clearly(api, connection, namespace):
    api.wait_for(sa_path(namespace, "default"))
    run = run_module("pull_secret", dict(connection, name="p", namespace=namespace, registries=[private_registry()],
                                         service_accounts=["default"], wait_for="provisioned", wait_timeout=2))
    assert run.failed and "timed out after 2s" in run.msg and "%s/default" % namespace in run.msg


def test_wait_for_exists_waits_for_a_new_service_account(api, connection, namespace):
    timer = threading.Timer(2.0, lambda: api.create("/api/v1/namespaces/%s/serviceaccounts" % namespace, {
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "late"}}))
    timer.start()
    run = run_module("pull_secret", dict(connection, name="p", namespace=namespace, registries=[private_registry()],
                                         service_accounts=["late"], wait_timeout=30))
    timer.join()
    assert not run.failed, run.msg
    assert {"name": "p"} in api.get(sa_path(namespace, "late"))["imagePullSecrets"]


# -- bad input: a clear failure and nothing written ---------------------------------------------------

BAD_INPUTS = [
    ("server with a space", dict(registries=[private_registry(server="bad host.example.com")]), "bad host"),
    ("server with @", dict(registries=[private_registry(server="user@registry.example.com")]), "@"),
    ("empty server", dict(registries=[private_registry(server="")]), "empty"),
    ("bad port", dict(registries=[private_registry(server="registry.example.com:99999")]), "port"),
    ("ftp scheme", dict(registries=[private_registry(server="ftp://registry.example.com")]), "ftp"),
    ("same registry twice", dict(registries=[private_registry(server="https://quay.io"), private_registry(server="quay.io")]),
     "same registry"),
    ("auth and password", dict(registries=[private_registry(auth="dXNlcjpwYXNz")]), "either auth"),
    ("username without password", dict(registries=[dict(server="quay.io", username="u")]), "username and password must both"),
    ("no credential", dict(registries=[dict(server="quay.io")]), "give username and password"),
    ("auth not base64", dict(registries=[dict(server="quay.io", auth="%%%not-base64%%%")]), "base64"),
    ("auth without colon", dict(registries=[dict(server="quay.io", auth=base64.b64encode(b"nocolon").decode())]), ":"),
    ("content not JSON", dict(content="{not json"), "JSON"),
    ("content a list", dict(content="[1, 2]"), "object"),
    ("content with a non-object entry", dict(content={"auths": {"quay.io": "string"}}), "quay.io"),
    ("content with no registry", dict(content={"auths": {}}), "no registry"),
    ("src missing", dict(src="/nonexistent/config.json"), "cannot read"),
    ("registries and content", dict(registries=[private_registry()], content={"auths": {}}), "mutually exclusive"),
    ("no credentials source", dict(), "registries"),
    ("bad link_for", dict(registries=[private_registry()], link_for=["push"]), "link_for"),
    ("missing service account without waiting", dict(registries=[private_registry()], service_accounts=["ghost"],
                                                     wait_for="none"), "ghost"),
    ("namespace and selector", dict(registries=[private_registry()], namespace_selector="a=b"), "mutually exclusive"),
]


@pytest.mark.parametrize("case,args,expected", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_fails_clearly_and_writes_nothing(audit, connection, namespace, case, args, expected):
    with audit.capture() as seen:
        run = run_module("pull_secret", dict(connection, name="bad", namespace=namespace, **args))
    assert run.failed, case
    assert expected.lower() in run.msg.lower(), run.msg
    assert "Traceback" not in run.output
    assert write_events(seen, [namespace]) == []


def test_no_credential_in_verbose_output_or_failures(connection, namespace):
    """-vvvv prints the module's arguments and result: every credential must be masked."""
    args = dict(connection, name="verbose", namespace=namespace, registries=[private_registry()])
    run_module("pull_secret", args, verbosity=4, check=True)
    run_module("pull_secret", args, verbosity=4)
    failing = dict(args, registries=[private_registry(server="bad host")])
    run = run_module("pull_secret", failing, verbosity=4)
    assert run.failed
    # run_module scans result, diff and output for every registered credential (raw and base64)

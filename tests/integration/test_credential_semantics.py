"""pull_secret and global_pull_secret decide as the consumers of the secret do (issue 13): the kubelet for namespace
pull secrets, containers/image (CRI-O) for the global pull secret.

Each behaviour runs the module against the local cluster and asserts the stored object, the audit log and, where
it can, what the real consumer code (tests/oracle, built from the Go sources) picks from the stored document.
"""

import base64
import json

import pytest

from helpers.baseline import seeded_cluster_config
from helpers.oracles import ContainersImageOracle, KubeletOracle, OracleError, build
from helpers.runner import register_secret, run_module

MODULE_AGENT = "ocp.registry_access/"
NAMESPACE, NAME = "openshift-config", "pull-secret"
SECRET_PATH = "/api/v1/namespaces/%s/secrets/%s" % (NAMESPACE, NAME)

OLD_PASSWORD = register_secret("fake-semantics-old-pass-7d2e")
NEW_PASSWORD = register_secret("fake-semantics-new-pass-91ac")
TOKEN = register_secret("fake-semantics-identity-token-0b3f")
HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def auth(user, password):
    return {"auth": b64("%s:%s" % (user, password))}


def stored(secret, key=".dockerconfigjson"):
    """(raw bytes, parsed JSON) of a Secret's document."""
    raw = base64.b64decode(secret["data"][key])
    return raw, json.loads(raw)


def write_events(seen, namespaces):
    return seen.summary(seen.writes(namespaces=list(namespaces), user_agent_prefix=MODULE_AGENT))


def put_document(api, secret, document, key=".dockerconfigjson"):
    """Write document (dict or bytes) into the Secret as someone else would (not through the modules)."""
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    body = dict(secret, data=dict(secret.get("data") or {}, **{key: base64.b64encode(raw).decode()}))
    return api.replace("/api/v1/namespaces/%s/secrets/%s" % (secret["metadata"]["namespace"], secret["metadata"]["name"]),
                       body)


def _oracle(cls):
    try:
        directory = build()
    except OracleError as e:
        pytest.skip("oracles unavailable: %s" % e)
    return cls(directory / cls.binary_name)


@pytest.fixture(scope="module")
def containers_image():
    with _oracle(ContainersImageOracle) as oracle:
        yield oracle


@pytest.fixture(scope="module")
def kubelet():
    with _oracle(KubeletOracle) as oracle:
        yield oracle


def node_credential(oracle, image, raw):
    """The (username, password) CRI-O sends for image from the auth file raw, or None."""
    response = oracle.lookup(image, raw)
    assert response["error"] is None, response
    c = response["credential"]
    return None if c is None else (c["username"], c["password"])


def kubelet_usernames(oracle, image, secret, key):
    """Every order of (username, password) the kubelet tries for image with this pull secret."""
    raw = base64.b64decode(secret["data"][key])
    response = oracle.lookup(image, [{"name": secret["metadata"]["name"], "type": secret["type"], "data": {key: raw}}])
    assert response["error"] is None, response
    return [[(c["username"], c["password"]) for c in order] for order in response["orders"]]


# -- the global pull secret: containers/image decides -------------------------------------------


@pytest.fixture
def global_secret(api, cluster):
    with seeded_cluster_config(api, cluster) as seeded:
        yield seeded


@pytest.fixture
def gps(connection, global_secret):
    def run(args=None, **kwargs):
        return run_module("global_pull_secret", dict(connection, **(args or {})), **kwargs)
    return run


@pytest.mark.xdist_group("global_pull_secret")
def test_removing_docker_io_removes_every_docker_hub_alias(api, audit, gps, global_secret, containers_image):
    _raw, seeded = stored(global_secret)
    document = dict(seeded, auths=dict(seeded["auths"], **{k: auth("hub", OLD_PASSWORD) for k in HUB_ALIASES}))
    put_document(api, global_secret, document)
    args = dict(registries=[dict(server="docker.io")], state="absent")

    with audit.capture() as seen:
        run = gps(args, check=True)
    assert run.changed and sorted(run.result["removed"]) == sorted(HUB_ALIASES)
    assert write_events(seen, [NAMESPACE]) == []

    with audit.capture() as seen:
        run = gps(args)
    assert not run.failed, run.msg
    assert sorted(run.result["removed"]) == sorted(HUB_ALIASES)
    assert write_events(seen, [NAMESPACE]) == ["update secrets %s/%s 200" % (NAMESPACE, NAME)]
    raw, after = stored(api.get(SECRET_PATH))
    assert not set(HUB_ALIASES) & set(after["auths"])
    assert after["auths"] == seeded["auths"]
    # the old credential is gone for every spelling of a Docker Hub image (was: https://index.docker.io/v1/ stayed live)
    for image in ("nginx", "library/nginx", "docker.io/library/nginx"):
        assert node_credential(containers_image, image, raw) != ("hub", OLD_PASSWORD)

    for check in (True, False):
        with audit.capture() as seen:
            run = gps(args, check=check)
        assert not run.changed and run.result["removed"] == []
        assert write_events(seen, [NAMESPACE]) == []


@pytest.mark.xdist_group("global_pull_secret")
def test_removing_quay_io_removes_an_https_key_with_a_path_but_not_quay_io_with_capitals(api, gps, global_secret,
                                                                                         containers_image):
    _raw, seeded = stored(global_secret)
    auths = {k: v for k, v in seeded["auths"].items() if k != "quay.io"}
    auths.update({"https://quay.io/org": auth("old", OLD_PASSWORD), "Quay.io": auth("dead", OLD_PASSWORD)})
    put_document(api, global_secret, dict(seeded, auths=auths))
    run = gps(dict(registries=[dict(server="quay.io")], state="absent"))
    assert not run.failed, run.msg
    assert run.result["removed"] == ["https://quay.io/org"]
    raw, after = stored(api.get(SECRET_PATH))
    assert "https://quay.io/org" not in after["auths"] and "Quay.io" in after["auths"]
    assert node_credential(containers_image, "quay.io/org/app", raw) is None


@pytest.mark.xdist_group("global_pull_secret")
def test_adding_index_docker_io_updates_the_old_docker_io_entry(api, audit, gps, global_secret, containers_image):
    _raw, seeded = stored(global_secret)
    put_document(api, global_secret, dict(seeded, auths=dict(seeded["auths"], **{"docker.io": auth("hub", OLD_PASSWORD)})))
    args = dict(registries=[dict(server="index.docker.io", username="hub", password=NEW_PASSWORD)])
    with audit.capture() as seen:
        run = gps(args)
    assert not run.failed, run.msg
    assert (run.result["added"], run.result["updated"]) == ([], ["docker.io"])
    assert write_events(seen, [NAMESPACE]) == ["update secrets %s/%s 200" % (NAMESPACE, NAME)]
    raw, after = stored(api.get(SECRET_PATH))
    assert "index.docker.io" not in after["auths"]
    assert after["auths"]["docker.io"] == auth("hub", NEW_PASSWORD)
    assert node_credential(containers_image, "nginx", raw) == ("hub", NEW_PASSWORD)
    with audit.capture() as seen:
        assert not gps(args).changed
    assert write_events(seen, [NAMESPACE]) == []


@pytest.mark.xdist_group("global_pull_secret")
def test_a_new_key_is_written_as_the_node_looks_it_up(api, gps, global_secret, containers_image):
    run = gps(dict(registries=[dict(server="https://new.example.com/v1/", username="robot", password=NEW_PASSWORD)]))
    assert not run.failed, run.msg
    assert run.result["added"] == ["new.example.com"]
    raw, after = stored(api.get(SECRET_PATH))
    assert "https://new.example.com/v1/" not in after["auths"]
    assert node_credential(containers_image, "new.example.com/team/app", raw) == ("robot", NEW_PASSWORD)


@pytest.mark.xdist_group("global_pull_secret")
def test_odd_entries_do_not_block_an_edit_and_stay_byte_identical(api, audit, gps, global_secret, containers_image):
    _raw, seeded = stored(global_secret)
    wrapped = b64("wrapped:" + OLD_PASSWORD)
    odd = {
        "wrapped.example.com": {"auth": wrapped[:12] + "\n" + wrapped[12:]},
        "broken.example.com": None,
        "": auth("empty", OLD_PASSWORD),
        "nouser.example.com": {"username": "u", "password": OLD_PASSWORD},
    }
    put_document(api, global_secret, dict(seeded, auths=dict(seeded["auths"], **odd)))
    args = dict(registries=[dict(server="private.example.com", username="robot", password=NEW_PASSWORD)])

    with audit.capture() as seen:
        run = gps(args, check=True)
    assert not run.failed, run.msg
    assert run.changed and write_events(seen, [NAMESPACE]) == []
    with audit.capture() as seen:
        run = gps(args)
    assert not run.failed, run.msg
    assert run.result["added"] == ["private.example.com"]
    assert write_events(seen, [NAMESPACE]) == ["update secrets %s/%s 200" % (NAMESPACE, NAME)]
    warnings = " ".join(run.result.get("warnings") or [])
    assert "'nouser.example.com'" in warnings and "only auth is read" in warnings
    raw, after = stored(api.get(SECRET_PATH))
    for key, entry in odd.items():
        assert after["auths"][key] == entry
        assert json.dumps({key: entry}, separators=(",", ":"))[1:-1].encode() in raw
    assert node_credential(containers_image, "wrapped.example.com/app", raw) == ("wrapped", OLD_PASSWORD)
    assert node_credential(containers_image, "private.example.com/app", raw) == ("robot", NEW_PASSWORD)

    for check in (True, False):
        with audit.capture() as seen:
            run = gps(args, check=check)
        assert not run.failed and not run.changed, run.result
        assert write_events(seen, [NAMESPACE]) == []


# -- namespace pull secrets: the kubelet decides ------------------------------------------------


def pull_secret(connection, namespace, check=False, **args):
    return run_module("pull_secret", dict(connection, name="pull", namespace=namespace, **args), check=check)


def create_secret(api, namespace, secret_type, key, document):
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return api.create("/api/v1/namespaces/%s/secrets" % namespace, {
        "apiVersion": "v1", "kind": "Secret", "type": secret_type,
        "metadata": {"name": "pull", "labels": {"app.kubernetes.io/managed-by": "ocp.registry_access"}},
        "data": {key: base64.b64encode(raw).decode()}})


REGISTRY = dict(server="registry.example.com", username="robot", password=NEW_PASSWORD)
PATH = "/api/v1/namespaces/%s/secrets/pull"


def test_a_dockercfg_secret_holding_the_auths_layout_is_rewritten(api, audit, connection, namespace, kubelet):
    create_secret(api, namespace, "kubernetes.io/dockercfg", ".dockercfg",
                  {"auths": {"registry.example.com": auth("robot", NEW_PASSWORD)}})
    before = api.get(PATH % namespace)
    assert kubelet_usernames(kubelet, "registry.example.com/app", before, ".dockercfg") == [[]]
    with audit.capture() as seen:
        run = pull_secret(connection, namespace, type="dockercfg", registries=[REGISTRY])
    assert not run.failed, run.msg
    assert run.result["secrets"][0]["action"] == "updated"  # was: unchanged
    assert write_events(seen, [namespace]) == ["update secrets %s/pull 200" % namespace]
    after = api.get(PATH % namespace)
    assert "auths" not in stored(after, ".dockercfg")[1]
    assert kubelet_usernames(kubelet, "registry.example.com/app", after, ".dockercfg") == [[("robot", NEW_PASSWORD)]]
    with audit.capture() as seen:
        run = pull_secret(connection, namespace, type="dockercfg", registries=[REGISTRY])
    assert run.result["secrets"][0]["action"] == "unchanged"
    assert write_events(seen, [namespace]) == []


def test_without_merge_a_second_spelling_with_the_old_credential_goes(api, audit, connection, namespace, kubelet):
    create_secret(api, namespace, "kubernetes.io/dockerconfigjson", ".dockerconfigjson", {"auths": {
        "registry.example.com": auth("robot", NEW_PASSWORD), "https://registry.example.com": auth("robot", OLD_PASSWORD)}})
    with audit.capture() as seen:
        run = pull_secret(connection, namespace, registries=[REGISTRY])
    assert not run.failed, run.msg
    assert run.result["secrets"][0]["action"] == "updated"  # was: unchanged, the old credential still tried
    assert write_events(seen, [namespace]) == ["update secrets %s/pull 200" % namespace]
    after = api.get(PATH % namespace)
    assert list(stored(after)[1]["auths"]) == ["registry.example.com"]
    assert kubelet_usernames(kubelet, "registry.example.com/app", after, ".dockerconfigjson") == [[("robot", NEW_PASSWORD)]]


def test_merge_updates_docker_io_instead_of_adding_index_docker_io(api, connection, namespace, kubelet):
    create_secret(api, namespace, "kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                  {"auths": {"docker.io": auth("hub", OLD_PASSWORD)}})
    run = pull_secret(connection, namespace, merge=True,
                      registries=[dict(server="index.docker.io", username="hub", password=NEW_PASSWORD)])
    assert not run.failed, run.msg
    after = api.get(PATH % namespace)
    assert list(stored(after)[1]["auths"]) == ["docker.io"]
    assert kubelet_usernames(kubelet, "nginx", after, ".dockerconfigjson") == [[("hub", NEW_PASSWORD)]]


def test_an_unpadded_entry_with_the_same_credential_is_kept_byte_identical(api, audit, connection, namespace):
    document = ('{"auths":{"registry.example.com":{"auth":"%s"}}}' % b64("robot:" + NEW_PASSWORD).rstrip("=")).encode()
    assert b"=" not in document.split(b'"auth":')[1]
    create_secret(api, namespace, "kubernetes.io/dockerconfigjson", ".dockerconfigjson", document)
    before = api.get(PATH % namespace)
    for check in (True, False):
        with audit.capture() as seen:
            run = pull_secret(connection, namespace, check=check, registries=[REGISTRY])
        assert not run.failed, run.msg
        assert run.result["secrets"][0]["action"] == "unchanged"  # was: refused as invalid base64
        assert write_events(seen, [namespace]) == []
    assert api.get(PATH % namespace)["data"] == before["data"]


def test_an_identity_token_only_entry_is_warned_about(api, connection, namespace):
    run = pull_secret(connection, namespace, registries=[dict(server="registry.example.com", identity_token=TOKEN)])
    assert not run.failed, run.msg
    assert any("identitytoken" in w for w in run.result.get("warnings") or []), run.result

"""A real registry client accepts what pull_secret writes: Debian's docker-registry (distribution)
with htpasswd auth and TLS on 127.0.0.1, an image pushed by the test, and `skopeo inspect
--authfile <the secret's decoded .dockerconfigjson>` — which must fail once the secret holds a
wrong password. The packages are installed by `make deps` (a prerequisite of test-integration)."""

import base64
import json
import os

import pytest

from helpers.registry import REGISTRY_BIN, SKOPEO_BIN, Registry, build_tiny_image
from helpers.runner import assert_no_leak, register_secret, run_module

pytestmark = pytest.mark.skipif(
    not (os.access(REGISTRY_BIN, os.X_OK) and os.access(SKOPEO_BIN, os.X_OK)),
    reason="needs %s and %s: run `make deps` (Debian packages docker-registry, skopeo, apache2-utils)"
           % (REGISTRY_BIN, SKOPEO_BIN))

USER = "fake-registry-user"
PASSWORD = register_secret("fake-registry-pass-5b1e")
WRONG_PASSWORD = register_secret("fake-registry-wrong-pass-c04d")
REPOSITORY = "test/tiny"
SECRET = "tiny-registry"


def write_authfile(api, namespace, path):
    """The secret's .dockerconfigjson, decoded into path, as a pod's kubelet would read it.
    Returns the registry keys it holds (no credential)."""
    secret = api.get("/api/v1/namespaces/%s/secrets/%s" % (namespace, SECRET))
    secret_type = secret["type"]
    assert secret_type == "kubernetes.io/dockerconfigjson"
    data = base64.b64decode(secret["data"][".dockerconfigjson"])
    with open(path, "wb") as f:
        f.write(data)
    return sorted(json.loads(data)["auths"])


def apply_secret(connection, namespace, server, password):
    run = run_module("pull_secret", dict(connection, name=SECRET, namespace=namespace, registries=[
        dict(server=server, username=USER, password=password, email="fake-registry-user@example.com")]))
    # A controller-side error (e.g. missing module_utils) leaves no "failed" key, only the rc.
    failed, rc, msg = run.failed, run.rc, run.msg
    assert not failed and rc == 0, "pull_secret failed (rc %d): %s" % (rc, msg)
    return run


def test_skopeo_pulls_with_the_secrets_docker_config(api, connection, namespace, tmp_path):
    image = build_tiny_image(str(tmp_path / "oci"))
    with Registry(tmp_path, {USER: PASSWORD}) as registry:
        registry.push(str(tmp_path / "oci"), REPOSITORY + ":latest", USER, PASSWORD)
        reference = "docker://%s/%s:latest" % (registry.host, REPOSITORY)

        # The right credentials: the secret's docker config lets skopeo read the manifest.
        apply_secret(connection, namespace, registry.host, PASSWORD)
        authfile = str(tmp_path / "good-auth.json")
        keys = write_authfile(api, namespace, authfile)
        assert keys == [registry.host]
        proc = registry.skopeo("inspect", "--authfile", authfile, "--cert-dir", registry.cert_dir, reference)
        rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        assert_no_leak(stdout + stderr)
        assert rc == 0, "skopeo inspect with the secret's credentials failed: %s\nregistry log:\n%s" % (
            stderr[-2000:], registry.log_tail())
        inspected = json.loads(stdout)
        assert inspected["Digest"] == image["manifest"]
        assert inspected["Layers"] == [image["layer"]]
        assert (inspected["Os"], inspected["Architecture"]) == ("linux", "amd64")

        # A wrong password in the same secret: the registry refuses the client.
        run = apply_secret(connection, namespace, registry.host, WRONG_PASSWORD)
        changed = run.changed
        assert changed, "changing the password must update the secret"
        authfile = str(tmp_path / "wrong-auth.json")
        keys = write_authfile(api, namespace, authfile)
        assert keys == [registry.host]
        proc = registry.skopeo("inspect", "--authfile", authfile, "--cert-dir", registry.cert_dir, reference)
        rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        assert_no_leak(stdout + stderr)
        assert rc != 0, "skopeo inspect succeeded with a wrong password in the secret"
        assert "unauthorized" in stderr.lower() or "authentication required" in stderr.lower(), stderr[-2000:]

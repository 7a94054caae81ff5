"""The collection as users get it: built into a tarball, installed into an empty collections
path, and run from there against the local cluster."""

import json
import os
import subprocess
import tarfile

from helpers.runner import BIN, REPO, ansible_env

FORBIDDEN_PREFIXES = (".venv/", ".build/", ".cluster", ".git/", "tests/cluster/", "tests/integration/", "tests/unit/",
                      "tests/helpers/", "benchmarks/", ".pytest_cache", "reports/")


def test_tarball_installs_and_a_module_runs_from_the_installed_copy(tmp_path, connection, namespace):
    dist, install = tmp_path / "dist", tmp_path / "collections"
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(dist), REPO],
                   check=True, capture_output=True, env=ansible_env())
    (tarball,) = list(dist.glob("ocp-registry_access-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "plugins/modules/pull_secret.py" in names and "meta/runtime.yml" in names
    shipped_junk = [n for n in names if n.startswith(FORBIDDEN_PREFIXES) or "__pycache__" in n or n.endswith(".tar.gz")]
    assert shipped_junk == []
    assert os.path.getsize(tarball) < 1024 * 1024

    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "-p", str(install), str(tarball)],
                   check=True, capture_output=True, env=ansible_env())
    installed = install / "ansible_collections" / "ocp" / "registry_access"
    assert (installed / "plugins" / "modules" / "pull_secret.py").exists()

    # A config that only knows the installed copy (not the checkout's ansible.cfg).
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\ncollections_path = %s\n" % install)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    env.update(ANSIBLE_CONFIG=str(cfg), PATH=BIN + os.pathsep + os.environ["PATH"])
    args = dict(connection, name="from-tarball", namespace=namespace,
                registries=[{"server": "quay.io", "username": "u", "password": "fake-tarball-pass-5d1e"}])
    proc = subprocess.run([os.path.join(BIN, "ansible"), "localhost", "-m", "ocp.registry_access.pull_secret",
                           "-a", json.dumps(args), "-vvv"], capture_output=True, text=True, env=env, cwd=str(tmp_path),
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    used = [line for line in proc.stdout.splitlines() if line.startswith("Using module file")]
    assert used == ["Using module file %s/plugins/modules/pull_secret.py" % installed]
    assert '"action": "created"' in proc.stdout
    assert "fake-tarball-pass-5d1e" not in proc.stdout + proc.stderr

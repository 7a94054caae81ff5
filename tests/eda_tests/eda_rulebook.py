"""A real ansible-rulebook process running the collection's rulebook (extensions/eda) against a local cluster."""

import os
import signal
import subprocess
import time

import yaml

from helpers.processes import kill_all, process_tree
from helpers.runner import REPO, register_secret

RULEBOOK = "ocp.registry_access.watch_and_enforce"
PASSWORD = register_secret("fake-eda-registry-pass-5c1e")
SECRET = "eda-pull"


class Rulebook:
    """ansible-rulebook in its own process group, its output in a file; stopped (only that group) at the end."""

    def __init__(self, workdir, kubeconfig, variables, env=None):
        self.log_path = os.path.join(str(workdir), "rulebook-%d.log" % time.time_ns())
        vars_path = os.path.join(str(workdir), "eda-vars-%d.yml" % time.time_ns())
        with open(vars_path, "w") as f:
            yaml.safe_dump(variables, f)
        environ = dict(os.environ, PATH=os.path.join(REPO, ".venv", "bin") + os.pathsep + os.environ["PATH"],
                       ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), K8S_AUTH_KUBECONFIG=kubeconfig,
                       ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
        for key, value in (env or {}).items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        self.argv = [os.path.join(REPO, ".venv", "bin", "ansible-rulebook"), "-r", RULEBOOK,
                     "-i", os.path.join(REPO, "tests", "inventory", "localhost.yml"), "-e", vars_path, "-v"]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, cwd=REPO, env=environ, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def output(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def runs(self):
        """Playbook runs finished so far (one PLAY RECAP each)."""
        return self.output.count("PLAY RECAP")

    def settle(self, quiet=5, timeout=120):
        """Wait until no playbook runs and none started for quiet seconds; returns the number of runs."""
        deadline, last, since = time.time() + timeout, None, time.time()
        while True:
            out = self.output
            state = (out.count("PLAY [Limit the declaration"), out.count("PLAY RECAP"))
            if state != last:
                last, since = state, time.time()
            elif state[0] == state[1] and time.time() - since >= quiet:
                return state[1]
            if time.time() > deadline:
                raise AssertionError("the rulebook did not settle in %ds:\n%s" % (timeout, out[-4000:]))
            time.sleep(0.3)

    def wait_for_runs(self, count, timeout=120):
        deadline = time.time() + timeout
        while self.runs() < count:
            if self.proc.poll() is not None:
                raise AssertionError("ansible-rulebook exited with %s:\n%s" % (self.proc.returncode, self.output[-4000:]))
            if time.time() > deadline:
                raise AssertionError("fewer than %d playbook runs after %ds:\n%s" % (count, timeout, self.output[-4000:]))
            time.sleep(0.3)

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("ansible-rulebook still runs after %ds:\n%s" % (timeout, self.output[-4000:]))

    def stop(self):
        """Stop ansible-rulebook and everything it started: ansible-runner runs each playbook in a session
        of its own (a pty), out of reach of the rulebook's process group, so its tree is taken first."""
        tree = process_tree(self.proc.pid)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        kill_all(tree[1:] + process_tree(self.proc.pid)[1:])
        self.log.close()


def declaration(label, path):
    """A declaration for namespaces labelled eda-test=<label>: a pull secret linked to default, an image puller."""
    text = {
        "project_access_pull_secrets": [{
            "name": SECRET, "namespace_selector": "eda-test=%s" % label, "service_accounts": ["default"],
            "registries": [{"server": "eda.registry.example.com", "username": "eda-bot", "password": PASSWORD}]}],
        "project_access_image_pullers": [{
            "image_namespace_selector": "eda-images=%s" % label, "groups": ["eda-pullers-%s" % label]}],
    }
    with open(path, "w") as f:
        yaml.safe_dump(text, f)
    return str(path)


def wait_until(predicate, timeout=60, interval=0.2, what="condition"):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("%s not reached in %ds" % (what, timeout))
        time.sleep(interval)

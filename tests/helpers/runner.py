"""Runs the collection the way users do — the `ansible` and `ansible-playbook` commands — and scans
everything they print and return for credentials.

pytest-ansible's ad-hoc fixture cannot run in check or diff mode, so module calls go through the
`ansible` command (one task, JSON arguments, the result read from its --tree file). Every run is
checked for leaks: each credential a test registers (and its base64 form) must appear nowhere in
the result, the diff or the output, at any verbosity.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

# Every credential any test used in this process: each run is scanned for all of them.
KNOWN_SECRETS = set([
    # the fake global pull secret loaded by tests/cluster/openshift/objects.yaml
    "fake-ocm-token-0001", "fake-quay-token-0002", "fake-rh-token-0003",
])


def register_secret(*values):
    for value in values:
        if value:
            KNOWN_SECRETS.add(value)
    return values[0] if len(values) == 1 else values


def leak_forms(value):
    forms = {value, base64.b64encode(value.encode()).decode()}
    return forms


def find_leaks(text):
    """Registered credentials that appear in text (raw or base64)."""
    hits = []
    for secret in KNOWN_SECRETS:
        for form in leak_forms(secret):
            if form in text:
                hits.append(form)
    return hits


def read_results(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def ansible_env(extra=None, results_file=None):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(REPO, "tests", "helpers", "callback"),
        "ANSIBLE_CALLBACKS_ENABLED": "result_file",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "OCP_TEST_RESULT_FILE": results_file or os.devnull,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    env.update(extra or {})
    return env


class Run(object):
    def __init__(self, result, output, rc):
        self.result = result
        self.output = output
        self.rc = rc

    @property
    def failed(self):
        # rc catches failures on Ansible's side (e.g. an import error) that leave no "failed" key
        return bool(self.result.get("failed")) or self.rc != 0

    @property
    def changed(self):
        return bool(self.result.get("changed"))

    @property
    def msg(self):
        return self.result.get("msg", "")


def run_module(module, args, check=False, diff=True, verbosity=0, env=None, scan=True):
    """Run ocp.registry_access.<module> on localhost; returns a Run. Fails the test on any leak."""
    fqcn = module if "." in module else "ocp.registry_access." + module
    with tempfile.TemporaryDirectory() as tmp:
        results_file = os.path.join(tmp, "results.jsonl")
        cmd = [os.path.join(BIN, "ansible"), "localhost", "-m", fqcn, "-a", json.dumps(args)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        proc = subprocess.run(cmd, cwd=REPO, env=ansible_env(env, results_file), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=900, check=False)
        results = read_results(results_file)
        if not results:
            raise AssertionError("no result from %s (rc %d):\n%s" % (fqcn, proc.returncode, proc.stdout[-3000:]))
        result = results[-1]
    run = Run(result, proc.stdout, proc.returncode)
    if scan:
        assert_no_leak(json.dumps(result) + proc.stdout)
    return run


def run_playbook(playbook, extra_vars=None, check=False, diff=True, verbosity=0, env=None, inventory=None, scan=True):
    """Run ansible-playbook; returns a PlaybookRun (rc, output, task results). Fails the test on any leak."""
    cmd = [os.path.join(BIN, "ansible-playbook"), playbook]
    for item in extra_vars or []:
        cmd += ["-e", item if isinstance(item, str) else json.dumps(item)]
    if inventory:
        cmd += ["-i", inventory]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    with tempfile.TemporaryDirectory() as tmp:
        results_file = os.path.join(tmp, "results.jsonl")
        proc = subprocess.run(cmd, cwd=REPO, env=ansible_env(env, results_file), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=1800, check=False)
        results = read_results(results_file)
    if scan:
        assert_no_leak(proc.stdout + json.dumps(results))
    return PlaybookRun(proc.returncode, proc.stdout, results)


class PlaybookRun(object):
    def __init__(self, rc, output, results):
        self.rc = rc
        self.output = output
        self.results = results

    def changed_tasks(self):
        return [r["_task"] for r in self.results if r.get("changed")]


def assert_no_leak(text):
    hits = find_leaks(text)
    assert not hits, "credential(s) leaked into output: %d form(s), e.g. one starting %r" % (len(hits), hits[0][:4])

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


# Every text a run produced (and every text a test checked with assert_no_leak), as (label, text):
# scanned once more at the end of the session for every credential registered by then, so a
# credential registered after a run is still looked for in that run's output.
SESSION_OUTPUTS = []


def register_secret(*values):
    for value in values:
        if value:
            KNOWN_SECRETS.add(value)
    return values[0] if len(values) == 1 else values


def _base64_forms(raw):
    """The base64 text of raw wherever it starts inside a larger encoded blob (3 alignments).

    Only the characters that depend on raw alone are kept, so a credential inside a base64-encoded
    document (a Secret's data, an auth field) is found too, not only one encoded on its own.
    """
    forms = set([base64.b64encode(raw).decode()])
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        start = -(-offset * 8 // 6)
        end = (offset + len(raw)) * 8 // 6
        if end - start >= 8:
            forms.add(encoded[start:end])
    return forms


def leak_forms(value):
    """How a credential can show up in text: raw, JSON-escaped (Python's and Go's) and base64."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             json.dumps(value)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")}
    forms |= _base64_forms(value.encode("utf-8"))
    return forms


def find_leaks(text):
    """Registered credentials that appear in text (raw, JSON-escaped or base64)."""
    hits = []
    for secret in list(KNOWN_SECRETS):
        for form in leak_forms(secret):
            if form in text:
                hits.append(form)
    return hits


def record_output(label, text):
    SESSION_OUTPUTS.append((label, text))


def session_leaks(extra=()):
    """(label, form) for every registered credential found in any output of the session (or in extra)."""
    hits = []
    for label, text in list(SESSION_OUTPUTS) + list(extra):
        hits.extend((label, form) for form in find_leaks(text))
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
    record_output("ansible -m %s" % fqcn, json.dumps(result) + proc.stdout)
    if scan:
        assert_no_leak(json.dumps(result) + proc.stdout, record=False)
    return run


def run_playbook(playbook, extra_vars=None, check=False, diff=True, verbosity=0, env=None, inventory=None, scan=True):
    """Run ansible-playbook; returns a PlaybookRun (rc, output, task results). Fails the test on any leak.

    Extra vars given as dicts go in through a file (-e @file), as users and AWX pass credentials:
    ansible-playbook -vvv prints the text of every -e on its command line.
    """
    cmd = [os.path.join(BIN, "ansible-playbook"), playbook]
    if inventory:
        cmd += ["-i", inventory]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    with tempfile.TemporaryDirectory() as tmp:
        for index, item in enumerate(extra_vars or []):
            if not isinstance(item, str):
                path = os.path.join(tmp, "vars-%d.json" % index)
                with open(path, "w") as f:
                    json.dump(item, f)
                item = "@" + path
            cmd += ["-e", item]
        results_file = os.path.join(tmp, "results.jsonl")
        proc = subprocess.run(cmd, cwd=REPO, env=ansible_env(env, results_file), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=1800, check=False)
        results = read_results(results_file)
    record_output("ansible-playbook %s" % playbook, proc.stdout + json.dumps(results))
    if scan:
        assert_no_leak(proc.stdout + json.dumps(results), record=False)
    return PlaybookRun(proc.returncode, proc.stdout, results)


class PlaybookRun(object):
    def __init__(self, rc, output, results):
        self.rc = rc
        self.output = output
        self.results = results

    def changed_tasks(self):
        return [r["_task"] for r in self.results if r.get("changed")]


def assert_no_leak(text, record=True):
    if record:
        record_output("assert_no_leak", text)
    hits = find_leaks(text)
    assert not hits, "credential(s) leaked into output: %d form(s), e.g. one starting %r" % (len(hits), hits[0][:4])

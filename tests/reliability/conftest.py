"""Fixtures and session hooks of the reliability suite (issue 9).

- A dedicated local control plane (.cluster-reliability, ports 46xxx) for the tests that load it
  hard or break it on purpose (parallel runs, the fault proxy, a killed kube-apiserver, a stopped
  etcd): the shared test cluster keeps serving the other suites undisturbed.
- The session's credential collector: every run's output is recorded by helpers.runner; pytest's
  own reports (failures, captured output) and the audit role's report files are added here, and
  everything is scanned once more at the end for every credential registered in the session (raw,
  JSON-escaped and base64, at any alignment). A hit fails the session.
- The figures the suite measures, written to .build/reliability/figures.json and printed at the
  end; docs/reliability.md quotes them.
"""

import fcntl
import json
import os
import time

import pytest

from cluster import Cluster
from helpers.audit import AuditLog
from helpers.kube import Api, unique
from helpers.runner import REPO, SESSION_OUTPUTS, KNOWN_SECRETS, register_secret, session_leaks

FAULT_CLUSTER_DIR = os.path.join(REPO, ".cluster-reliability")
FAULT_PORT_BASE = 46000
FIGURES_FILE = os.path.join(REPO, ".build", "reliability", "figures.json")

FIGURES = {}
PYTEST_REPORTS = []  # (nodeid, text) of failures and captured output
REPORT_DIRS = set([os.path.join(REPO, "reports")])  # where the audit role writes during the session
SESSION_START = time.time()
LEAKS = []


def pytest_configure(config):
    config.addinivalue_line("markers", "session_end: runs after every other test of the session")


def pytest_collection_modifyitems(items):
    """Tests marked session_end go last (the final leak scan), whatever the file order."""
    items.sort(key=lambda item: 1 if item.get_closest_marker("session_end") else 0)


def pytest_runtest_logreport(report):
    texts = [report.longreprtext or ""] + [content for _title, content in report.sections]
    text = "\n".join(t for t in texts if t)
    if text:
        PYTEST_REPORTS.append(("pytest report %s (%s)" % (report.nodeid, report.when), text))


def report_files():
    """(path, text) of every report file the audit role wrote during the session."""
    files = []
    for directory in sorted(REPORT_DIRS):
        for root, _dirs, names in os.walk(directory):
            for name in names:
                path = os.path.join(root, name)
                try:
                    if os.path.getmtime(path) < SESSION_START - 1:
                        continue
                    with open(path, errors="replace") as f:
                        files.append((path, f.read()))
                except OSError:
                    continue
    return files


def scan_session():
    """Every output of the session scanned for every credential: (figures, hits)."""
    reports = report_files()
    extra = list(PYTEST_REPORTS) + [("audit report %s" % path, text) for path, text in reports]
    hits = session_leaks(extra)
    texts = list(SESSION_OUTPUTS) + extra
    figures = {
        "credentials": len(KNOWN_SECRETS),
        "run_outputs": len(SESSION_OUTPUTS),
        "pytest_reports": len(PYTEST_REPORTS),
        "audit_report_files": len(reports),
        "bytes_scanned": sum(len(text) for _label, text in texts),
        "leaks": len(hits),
    }
    return figures, hits


def pytest_sessionfinish(session):
    figures, hits = scan_session()
    FIGURES["no_leak"] = figures
    LEAKS[:] = hits
    if hits and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if FIGURES:
        os.makedirs(os.path.dirname(FIGURES_FILE), exist_ok=True)
        with open(FIGURES_FILE, "w") as f:
            json.dump(FIGURES, f, indent=2, sort_keys=True)


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    tr = terminalreporter
    tr.section("reliability figures")
    for key in sorted(FIGURES):
        tr.write_line("%s: %s" % (key, json.dumps(FIGURES[key], sort_keys=True)))
    if LEAKS:
        tr.write_line("CREDENTIAL LEAKS: %d form(s) in: %s" % (len(LEAKS), ", ".join(sorted(set(l for l, _f in LEAKS)))),
                      red=True)
    tr.write_line("figures written to %s" % FIGURES_FILE)


@pytest.fixture(scope="session")
def figures():
    """Measured figures of the session (suite -> values), written out at the end."""
    return FIGURES


@pytest.fixture(scope="session")
def session_scan():
    """scan_session: every output of the session so far scanned for every credential -> (figures, hits)."""
    return scan_session


@pytest.fixture(scope="session")
def report_dirs():
    """Register a directory the audit role writes reports to: its files are scanned at the end."""
    return REPORT_DIRS


# -- the dedicated cluster -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fault_cluster():
    """A control plane of its own for load and fault tests, started for the session and removed after it."""
    c = Cluster(cluster_dir=FAULT_CLUSTER_DIR, port_base=FAULT_PORT_BASE)
    with open(c.dir + ".session.lock", "w") as session:
        fcntl.flock(session, fcntl.LOCK_EX)  # a second reliability session waits: this one removes the cluster
        started = time.time()
        c.up()
        FIGURES.setdefault("cluster", {})["dedicated_cluster_start_seconds"] = round(time.time() - started, 1)
        register_secret(c.admin_token)
        yield c
        c.down(quiet=True)


@pytest.fixture(scope="session")
def fault_api(fault_cluster):
    return Api(fault_cluster.server, fault_cluster.ca_cert, token=fault_cluster.admin_token)


@pytest.fixture(scope="session")
def fault_audit(fault_cluster, fault_api):
    return AuditLog(fault_cluster.audit_log, fault_api)


@pytest.fixture(scope="session")
def fault_connection(fault_cluster):
    return {"kubeconfig": fault_cluster.kubeconfig}


@pytest.fixture
def fault_namespace_factory(fault_api):
    created = []

    def make(prefix="r", labels=None, wait_for_default_sa=True):
        name = unique(prefix)[:63]
        fault_api.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": name, "labels": labels or {}}})
        created.append(name)
        if wait_for_default_sa:
            fault_api.settle_namespace(name)
        return name

    yield make
    for name in created:
        try:
            fault_api.delete("/api/v1/namespaces/" + name)
        except Exception:  # pylint: disable=broad-except
            pass  # a fault test may have left the API server down: the cluster is removed at the end anyway


@pytest.fixture(scope="session", autouse=True)
def shared_cluster_token(cluster):
    """The shared cluster's admin token is a credential used by the session too."""
    register_secret(cluster.admin_token)

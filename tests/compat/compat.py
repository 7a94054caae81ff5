"""The collection on every supported ansible-core (make test-compat), and the venvs of other tools.

Each release of tests/compat/matrix.txt gets a venv of its own, on the controller Python the matrix
names, with that ansible-core and tests/compat/requirements.txt. Venvs live outside the checkout, in
~/.cache/ocp-registry-access/venvs/<name>-<hash> (OCP_VENV_CACHE overrides), keyed by a hash of what
goes into them (the requirements, the pin and the interpreter's version), so a fresh clone reuses
them and a changed pin builds a new one. They are built in parallel, each under a lock.

    compat.py venv NAME...     build (or reuse) venvs, print their paths; NAME is a minor (2.16) or
                               a tool (galaxy-importer: tests/compat/requirements-galaxy-importer.txt)
    compat.py test [MINOR...]  the unit tests and the smoke run (tests/compat/test_smoke.py) on each
                               minor (default: all), logs in .build/compat/<minor>.log
    compat.py minors | oldest | newest   every minor of the matrix, its first or its last
"""

import argparse
import concurrent.futures
import fcntl
import functools
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("OCP_VENV_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ocp-registry-access", "venvs")
LOG_DIR = os.path.join(REPO, ".build", "compat")
TOOLS = {"galaxy-importer": ("requirements-galaxy-importer.txt", "3.11")}  # name -> (requirements, Python)


def matrix():
    """[(minor, pinned release, Python)] in the order of tests/compat/matrix.txt."""
    rows = []
    with open(os.path.join(HERE, "matrix.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                minor, release, python = line.split()
                rows.append((minor, release, python))
    return rows


@functools.lru_cache(maxsize=None)
def pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    if root:
        return root
    try:
        return subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.path.expanduser("~/.pyenv")


@functools.lru_cache(maxsize=None)
def interpreter(python):
    """The newest pyenv build of Python <python> (e.g. 3.12), else the system's python<python>."""
    root = pyenv_root()
    builds = glob.glob(os.path.join(root, "versions", python + ".*", "bin", "python" + python))

    def version(path):
        return [int(p) if p.isdigit() else -1 for p in path.split(os.sep)[-3].split(".")]

    candidates = sorted(builds, key=version, reverse=True) + ["/usr/bin/python" + python, "/usr/local/bin/python" + python]
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    raise SystemExit("compat: no Python %s on this machine (looked in %s/versions and /usr/bin)" % (python, root))


@functools.lru_cache(maxsize=None)
def python_version(path):
    return subprocess.run([path, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


class Venv(object):
    def __init__(self, name, requirements, pins, python):
        self.name, self.requirements, self.pins = name, requirements, pins
        self.python = interpreter(python)
        self.python_version = python_version(self.python)
        key = hashlib.sha256()
        with open(self.requirements, "rb") as f:
            key.update(f.read())
        key.update(("\n".join(pins) + "\n" + self.python + " " + self.python_version).encode())
        self.path = os.path.join(CACHE, "%s-%s" % (name, key.hexdigest()[:12]))
        self.bin = os.path.join(self.path, "bin")
        self.built_in = None  # seconds, or None when it came from the cache

    @classmethod
    def named(cls, name):
        if name in TOOLS:
            requirements, python = TOOLS[name]
            return cls(name, os.path.join(HERE, requirements), [], python)
        for minor, release, python in matrix():
            if name == minor:
                return cls("ansible-core-" + minor, os.path.join(HERE, "requirements.txt"),
                           ["ansible-core==" + release], python)
        raise SystemExit("compat: %r is neither a minor of tests/compat/matrix.txt nor one of %s" % (name, sorted(TOOLS)))

    def ensure(self):
        """Builds the venv unless a complete one is cached; one builder at a time per venv."""
        stamp = os.path.join(self.path, ".complete")
        if os.path.exists(stamp):
            return self
        os.makedirs(CACHE, exist_ok=True)
        with open(self.path + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.path.exists(stamp):
                return self
            start = time.time()
            shutil.rmtree(self.path, ignore_errors=True)  # an interrupted build
            with open(self.path + ".log", "w") as log:
                for cmd in ([self.python, "-m", "venv", self.path],
                            [os.path.join(self.bin, "python"), "-m", "pip", "install", "--quiet",
                             "--disable-pip-version-check", "-r", self.requirements] + self.pins):
                    proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=False)
                    if proc.returncode:
                        raise SystemExit("compat: building %s failed, see %s.log" % (self.path, self.path))
            with open(stamp, "w") as f:
                f.write(" ".join(self.pins) + "\n")
            self.built_in = time.time() - start
        return self

    def describe(self):
        how = "built in %.0fs" % self.built_in if self.built_in is not None else "cached"
        return "%s (Python %s, %s): %s" % (self.name, self.python_version, how, self.path)


def ensure_all(names):
    venvs = [Venv.named(name) for name in names]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(venvs)) as pool:
        return list(pool.map(Venv.ensure, venvs))


def run_suites(minor, venv):
    """The unit tests and the smoke run on one venv; (ok, summary line, seconds)."""
    release = venv.pins[0].split("==")[1]
    env = dict(os.environ, PATH=venv.bin + os.pathsep + os.environ.get("PATH", ""), OCP_COMPAT_ANSIBLE_CORE=release)
    env.pop("PYTHONPATH", None)
    os.makedirs(LOG_DIR, exist_ok=True)
    log_path = os.path.join(LOG_DIR, minor + ".log")
    start = time.time()
    # -o addopts=: pytest.ini's options are for pytest-ansible, which only .venv has
    cmd = [os.path.join(venv.bin, "python"), "-m", "pytest", "tests/unit/plugins", "tests/compat", "-q",
           "-p", "no:cacheprovider", "-o", "addopts=", "-n", "1"]
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    with open(log_path) as log:
        lines = [line.rstrip() for line in log if line.strip()]
    summary = lines[-1] if lines else "no output"
    return proc.returncode == 0, summary, time.time() - start, log_path


def test(minors, jobs):
    minors = minors or [row[0] for row in matrix()]
    venvs = ensure_all(minors)
    for venv in venvs:
        print("compat: venv " + venv.describe(), flush=True)
    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = dict((pool.submit(run_suites, minor, venv), (minor, venv)) for minor, venv in zip(minors, venvs))
        for future in concurrent.futures.as_completed(futures):
            minor, venv = futures[future]
            ok, summary, seconds, log_path = future.result()
            print("compat: %s %s on Python %s: %s (%.0fs)%s" % (
                "ok  " if ok else "FAIL", venv.pins[0], venv.python_version, summary, seconds,
                "" if ok else " -- log: " + log_path), flush=True)
            if not ok:
                failed.append((minor, log_path))
    for minor, log_path in failed:
        with open(log_path) as log:
            tail = log.readlines()[-60:]
        print("\ncompat: ---- last lines of %s ----\n%s" % (log_path, "".join(tail)), flush=True)
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("venv").add_argument("names", nargs="+")
    t = sub.add_parser("test")
    t.add_argument("minors", nargs="*")
    t.add_argument("--jobs", type=int, default=3, help="minors tested at the same time")
    for name in ("minors", "oldest", "newest"):
        sub.add_parser(name)
    args = parser.parse_args(argv)
    if args.command == "venv":
        for venv in ensure_all(args.names):
            print("compat: venv " + venv.describe(), file=sys.stderr)
            print(venv.path)
        return 0
    minors = [row[0] for row in matrix()]
    if args.command in ("minors", "oldest", "newest"):
        print(" ".join(minors) if args.command == "minors" else minors[0 if args.command == "oldest" else -1])
        return 0
    return test(args.minors, args.jobs)


if __name__ == "__main__":
    sys.exit(main())

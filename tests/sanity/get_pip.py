"""Stand-in for pypa's get-pip.py, which ansible-test downloads from a host this machine cannot reach.

ansible-test runs it in each fresh sanity venv with pip's own arguments (such as pip==24.2).
It bootstraps pip from the standard library's bundled wheel (ensurepip), then lets that pip
install what ansible-test asked for from the package index. `make sanity` puts it in
ansible-test's cache only when no bootstrap script is cached there yet.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)

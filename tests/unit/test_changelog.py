"""The changelog: a fragment per change, and CHANGELOG.md generated from them at release."""

import os
import shutil
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MODULES = sorted(f[:-3] for f in os.listdir(os.path.join(REPO, "plugins", "modules")) if f.endswith(".py"))


def fragments():
    directory = os.path.join(REPO, "changelogs", "fragments")
    for name in sorted(os.listdir(directory)):
        if name.endswith(".yml"):
            with open(os.path.join(directory, name)) as f:
                yield name, yaml.safe_load(f)


def test_every_module_has_a_fragment():
    text = " ".join(str(content) for _name, content in fragments())
    assert [m for m in MODULES if "%s - " % m not in text] == []


def test_release_generates_changelog_md(tmp_path):
    copy = tmp_path / "collection"
    shutil.copytree(os.path.join(REPO, "changelogs"), copy / "changelogs")
    shutil.copy(os.path.join(REPO, "galaxy.yml"), copy / "galaxy.yml")
    shutil.copytree(os.path.join(REPO, "plugins"), copy / "plugins")
    subprocess.run([os.path.join(BIN, "antsibull-changelog"), "release", "--version", "0.1.0",
                    "--date", "2026-11-28"], cwd=copy, check=True, capture_output=True,
                   env=dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"]))
    changelog = (copy / "CHANGELOG.md").read_text().replace("\\", "")  # Markdown escapes
    assert "## v0.1.0" in changelog
    for module in MODULES:
        assert module in changelog

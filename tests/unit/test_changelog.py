"""The changelog, kept as antsibull-changelog documents it: CHANGELOG.md is generated at release from
changelogs/changelog.yaml and the fragments. New modules, plugins and roles come from their version_added,
new playbooks from an ``add object.playbook`` fragment; a fragment describes a change to what was released,
so a "new module" fragment, or a fix of behaviour that no release had, is noise."""

import os
import re
import shutil
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MODULES = sorted(f[:-3] for f in os.listdir(os.path.join(REPO, "plugins", "modules")) if f.endswith(".py"))
ROLES = sorted(os.listdir(os.path.join(REPO, "roles")))
PLAYBOOKS = sorted(f[:-4] for f in os.listdir(os.path.join(REPO, "playbooks")) if f.endswith(".yml"))
VERSION = yaml.safe_load(open(os.path.join(REPO, "galaxy.yml")))["version"]
# Sections that say how released behaviour changed: with no release yet there is nothing to fix, break or remove.
CHANGES_TO_RELEASED = ("breaking_changes", "bugfixes", "security_fixes", "removed_features", "known_issues")
NEW_MODULE = re.compile(r"\bnew (read-only )?module\b", re.IGNORECASE)


def fragments():
    directory = os.path.join(REPO, "changelogs", "fragments")
    for name in sorted(os.listdir(directory)):
        if name.endswith(".yml"):
            with open(os.path.join(directory, name)) as f:
                yield name, yaml.safe_load(f)


def releases():
    with open(os.path.join(REPO, "changelogs", "changelog.yaml")) as f:
        return yaml.safe_load(f).get("releases") or {}


def doc_yaml(path, variable="DOCUMENTATION"):
    text = open(path).read()
    match = re.search(r"^%s = r?'''(.*?)'''" % variable, text, re.S | re.M)
    return yaml.safe_load(match.group(1))


def test_every_module_and_role_has_version_added():
    """antsibull-changelog lists a module or role as new in the release its version_added names."""
    missing = [m for m in MODULES
               if not doc_yaml(os.path.join(REPO, "plugins", "modules", m + ".py")).get("version_added")]
    for role in ROLES:
        with open(os.path.join(REPO, "roles", role, "meta", "argument_specs.yml")) as f:
            if not yaml.safe_load(f)["argument_specs"]["main"].get("version_added"):
                missing.append("role " + role)
    assert missing == []


def test_every_playbook_is_announced_once():
    announced = [p["name"] for _name, content in fragments() for p in content.get("add object.playbook", [])]
    released = [p["name"] for release in releases().values()
                for p in (release.get("objects") or {}).get("playbook", [])]
    assert sorted(announced + released) == PLAYBOOKS


def test_no_fragment_announces_a_new_module():
    """New modules are listed from version_added: a fragment that says so again is noise."""
    noisy = [(name, entry) for name, content in fragments() for section, entries in content.items()
             if isinstance(entries, list) for entry in entries if isinstance(entry, str) and NEW_MODULE.search(entry)]
    assert noisy == []


def test_no_fix_of_behaviour_never_released():
    """A fix, break or removal is of released behaviour; before the first release there is none, and every
    feature is new: the release summary says what the release holds, the rest is listed from version_added
    and from the add object / add plugin sections."""
    if releases():
        return
    assert [(name, section) for name, content in fragments() for section in content
            if section in CHANGES_TO_RELEASED or section in ("major_changes", "minor_changes")] == []


def test_release_generates_changelog_md(tmp_path):
    copy = tmp_path / "collection"
    shutil.copytree(os.path.join(REPO, "changelogs"), copy / "changelogs")
    shutil.copy(os.path.join(REPO, "galaxy.yml"), copy / "galaxy.yml")
    for directory in ("plugins", "roles", "meta"):
        shutil.copytree(os.path.join(REPO, directory), copy / directory)
    subprocess.run([os.path.join(BIN, "antsibull-changelog"), "release", "--version", VERSION,
                    "--date", "2026-11-28"], cwd=copy, check=True, capture_output=True,
                   env=dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"]))
    changelog = (copy / "CHANGELOG.md").read_text().replace("\\", "")  # Markdown escapes
    assert "## v%s" % VERSION in changelog

    def listed(section):
        body = changelog.split("### %s\n" % section, 1)[1].split("\n#", 1)[0]
        return sorted(re.findall(r"^\* ocp\.registry_access\.(\w+) - ", body, re.M))

    assert listed("New Modules") == MODULES
    assert listed("New Roles") == ROLES
    assert listed("New Playbooks") == PLAYBOOKS

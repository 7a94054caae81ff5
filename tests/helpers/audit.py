"""Reads the API server's audit log: which requests a block of test code caused.

The log is written at Metadata level (tests/cluster/audit-policy.yaml). A capture ends with a
sentinel request and waits until it appears, so every earlier request is in the file.
"""

import glob
import json
import os
import time
import uuid
from collections import namedtuple

WRITE_VERBS = frozenset(["create", "update", "patch", "delete", "deletecollection"])

Event = namedtuple("Event", "verb resource subresource namespace name user user_agent code")


class Capture:
    def __init__(self):
        self.events = []

    def select(self, namespaces=None, user_agent_prefix=None, resource=None, verbs=None):
        out = []
        for e in self.events:
            if namespaces is not None and e.namespace not in namespaces:
                continue
            if user_agent_prefix is not None and not (e.user_agent or "").startswith(user_agent_prefix):
                continue
            if resource is not None and e.resource != resource:
                continue
            if verbs is not None and e.verb not in verbs:
                continue
            out.append(e)
        return out

    def writes(self, **kwargs):
        return self.select(verbs=WRITE_VERBS, **kwargs)

    def summary(self, events=None):
        """Events as short strings, for readable assertion messages."""
        return ["%s %s%s %s/%s %s" % (e.verb, e.resource, "/" + e.subresource if e.subresource else "",
                                      e.namespace or "-", e.name or "-", e.code)
                for e in (self.events if events is None else events)]


def describe(events):
    """Events named in full (verb, resource, name, user, user agent): for messages about who sent a request."""
    named = ["%s %s%s %s/%s by %s (%s) -> %s" % (e.verb, e.resource, "/" + e.subresource if e.subresource else "",
                                                 e.namespace or "-", e.name or "-", e.user, e.user_agent, e.code)
             for e in events]
    return "; ".join(named) or "none"


class AuditLog:
    def __init__(self, path, api):
        self.path = path
        self.api = api

    def _size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def capture(self):
        return _CaptureBlock(self)

    def _read_after(self, offset):
        """(bytes logged after offset, offset at their end in the current file).

        The API server rotates its audit log at 100 MB (lumberjack's default): when the file is
        shorter than offset, the rest of the old file is the newest audit-<time>.log beside it.
        """
        data = b""
        if os.path.getsize(self.path) < offset:
            directory, name = os.path.split(self.path)
            stem, ext = os.path.splitext(name)
            backups = sorted(glob.glob(os.path.join(directory, "%s-*%s" % (stem, ext))), key=os.path.getmtime)
            if backups:
                with open(backups[-1], "rb") as f:
                    f.seek(offset)
                    data = f.read()
            offset = 0
        with open(self.path, "rb") as f:
            f.seek(offset)
            rest = f.read()
        return data + rest, offset + len(rest)

    def events_since(self, offset):
        """(events in complete lines after offset, offset after them): for watching a run while it goes on."""
        try:
            data, end_offset = self._read_after(offset)
        except OSError:
            return [], offset
        end = data.rfind(b"\n") + 1
        events = [_event(raw) for raw in _parse(data[:end].splitlines())]
        return [e for e in events if e is not None], end_offset - (len(data) - end)

    def read_from(self, offset, sentinel):
        deadline = time.time() + 15
        while True:
            events, found = [], False
            for event in filter(None, map(_event, _parse(self._read_after(offset)[0].splitlines()))):
                if event.name == sentinel:
                    found = True
                else:
                    events.append(event)
            if found:
                return events
            if time.time() > deadline:
                raise AssertionError("audit sentinel %s never reached %s" % (sentinel, self.path))
            time.sleep(0.1)


def _parse(lines):
    for line in lines:
        try:
            yield json.loads(line)
        except ValueError:
            continue  # a line still being written, or cut short by a killed API server


def _event(raw):
    if raw.get("stage") != "ResponseComplete":
        return None
    ref = raw.get("objectRef") or {}
    return Event(raw.get("verb"), ref.get("resource"), ref.get("subresource"), ref.get("namespace"), ref.get("name"),
                 raw.get("user", {}).get("username"), raw.get("userAgent"), raw.get("responseStatus", {}).get("code"))


class _CaptureBlock:
    def __init__(self, log):
        self.log = log
        self.capture = Capture()

    def __enter__(self):
        self.offset = self.log._size()  # pylint: disable=protected-access
        return self.capture

    def __exit__(self, *exc):
        sentinel = "audit-sentinel-" + uuid.uuid4().hex[:10]
        self.log.api.get_or_none("/api/v1/namespaces/default/configmaps/" + sentinel)
        self.capture.events = self.log.read_from(self.offset, sentinel)
        return False

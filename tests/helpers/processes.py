"""Process trees from /proc: what a test or the benchmark started, children of children included."""

import os
import signal


def process_tree(root):
    """root and all its descendants (from /proc/<pid>/task/<tid>/children)."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    todo.extend(int(c) for c in f.read().split())
            except (OSError, ValueError):
                pass
    return out


def kill_all(pids, sig=signal.SIGKILL):
    """Send sig to each of pids that still runs."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass

"""docs/benchmarks.md from one results file of make bench (benchmarks/bench.py writes both).

Everything on the page comes from that one file: the table, the targets judged on it, the
machine and its load, the versions. Nothing is carried over from an earlier run: history is in
git. An `event_driven` object in the results (benchmarks/event_bench.py, when present) becomes
the page's "Event-driven" section.

Usage: page.py RESULTS_JSON [OUTPUT_MD]     (default output: docs/benchmarks.md)
"""

import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(os.path.dirname(HERE), "docs", "benchmarks.md")

TARGET_N = 10000  # OpenShift's tested maximum of namespaces: the targets are judged there
FLOOR_RATIO = 1.5
RERUN_REQUESTS = 10
MODULE_RSS_MB = 300
COLLECTION = ("a", "e")  # the tools that are ocp.registry_access
PHASES = ("first", "rerun", "audit")
VERB_ORDER = ["get", "list", "watch", "create", "update", "patch", "delete"]


def row(rows, tool, n, phase):
    for r in rows:
        if r["tool"] == tool and r["n"] == n and r["phase"] == phase:
            return r
    return None


def sizes(rows):
    return sorted(set(r["n"] for r in rows))


def mb(kib):
    return None if kib is None else kib / 1024.0


def fmt_mb(kib):
    return "-" if kib is None else "%.0f" % mb(kib)


def fmt_verbs(by_verb):
    keys = sorted(by_verb, key=lambda v: (VERB_ORDER.index(v) if v in VERB_ORDER else 99, v))
    return ", ".join("%s %d" % (v, by_verb[v]) for v in keys) or "-"


def module_peak(r):
    return (r.get("memory") or {}).get("worker_peak_kib")


def targets(results):
    """The issue's targets, judged at the run's largest N (10,000 in a full run), from this run only."""
    rows = results["rows"]
    if not rows:
        return []
    top = max(sizes(rows))
    where = "N=%d" % top if top >= TARGET_N else "N=%d (this run stopped below %d)" % (top, TARGET_N)
    out = []
    a_first, a_rerun, d_first = row(rows, "a", top, "first"), row(rows, "a", top, "rerun"), row(rows, "d", top, "first")
    if a_first and d_first:
        ratio = a_first["median_s"] / d_first["median_s"]
        out.append({"target": "(a) first run at most %gx the floor (d) at %s" % (FLOOR_RATIO, where),
                    "met": ratio <= FLOOR_RATIO,
                    "measured": "(a) %.1f s, (d) %.1f s: %.2fx" % (a_first["median_s"], d_first["median_s"], ratio)})
    reruns = [r for r in rows if r["tool"] == "a" and r["phase"] == "rerun"]
    if reruns:
        out.append({"target": "(a) rerun on the unchanged cluster sends 0 writes (every N, every repetition)",
                    "met": not any(w for r in reruns for w in r["writes_all_runs"]),
                    "measured": "; ".join("N=%d: %s" % (r["n"], max(r["writes_all_runs"])) for r in reruns)})
    if a_rerun:
        worst = max(a_rerun["requests_all_runs"])
        out.append({"target": "(a) rerun at most %d requests at %s" % (RERUN_REQUESTS, where),
                    "met": worst <= RERUN_REQUESTS,
                    "measured": "%d (%s)" % (worst, ", ".join("%s %d" % kv for kv in sorted(
                        (a_rerun.get("by_verb_resource") or a_rerun["by_verb"]).items())))})
    peaks = [(module_peak(r), r) for r in rows if r["n"] == top and r["tool"] in COLLECTION and module_peak(r)]
    if peaks:
        peak, r = max(peaks, key=lambda p: p[0])
        each = {}
        for _p, x in peaks:
            for name, kib in (x["memory"].get("modules_kib") or {}).items():
                each[name] = max(kib, each.get(name, 0))
        out.append({"target": "peak RSS of the collection's module process below %d MB at %s" % (MODULE_RSS_MB, where),
                    "met": mb(peak) < MODULE_RSS_MB,
                    "measured": "%.0f MB, %s in the %s run (%s)" % (
                        mb(peak), r["memory"].get("worker_name") or "?", r["phase"],
                        ", ".join("%s %.0f MB" % (name, mb(kib)) for name, kib in sorted(each.items())))})
    api = [r for r in rows if r["n"] == top and r.get("apiserver")]
    if api:
        peak = max(r["apiserver"].get("rss_max_kib") or 0 for r in api)
        since = (results.get("apiserver_by_n") or {}).get(str(top)) or {}
        out.append({"target": "API server memory reported at %s" % where, "met": None,
                    "measured": "RSS up to %.0f MB while the tools ran; peak since its start %s MB (setup of %d namespaces included)"
                    % (mb(peak), fmt_mb(since.get("hwm_kib")), top)})
    b_first, b_rerun = row(rows, "b", top, "first"), row(rows, "b", top, "rerun")
    if a_first and a_rerun and b_first and b_rerun:
        first, rerun = b_first["median_s"] / a_first["median_s"], b_rerun["median_s"] / a_rerun["median_s"]
        how = " ((b) extrapolated from %d namespaces)" % b_first["extrapolated_from"] if b_first.get("extrapolated_from") else ""
        out.append({"target": "(a) at least 20x faster than the kubernetes.core loop (b) at %s" % where,
                    "met": first >= 20 and rerun >= 20,
                    "measured": "first run %.0fx, rerun %.0fx%s" % (first, rerun, how)})
    firsts = [r for r in rows if r["tool"] == "a" and r["phase"] == "first"]
    if firsts:
        out.append({"target": "(a) first run writes exactly what is missing: 3 objects per namespace",
                    "met": all(set(r["writes_all_runs"]) == {3 * r["n"]} for r in firsts),
                    "measured": "; ".join("N=%d: %s" % (r["n"], "/".join(str(w) for w in sorted(set(r["writes_all_runs"]))))
                                          for r in firsts)})
    return out + list((results.get("event_driven") or {}).get("targets") or [])


def verdict(t):
    return "REPORTED" if t.get("met") is None else ("MET" if t["met"] else "MISSED")


def load_summary(results):
    samples = [s[1] for s in (results.get("load") or {}).get("samples") or []]
    if not samples:
        return "not recorded"
    cores = results["machine"]["nproc"]
    return ("1-minute load average %.1f to %.1f, median %.1f, on %d cores (%d samples of /proc/loadavg, one every %g s, "
            "through the whole run; other work shared the machine)"
            % (min(samples), max(samples), statistics.median(samples), cores, len(samples),
               results["load"].get("interval_s", 5)))


def setup_line(results):
    setup = results.get("setup_by_n") or {}
    if not setup:
        return "setup times not recorded"
    return "setup took " + ", ".join("%.0f s for N=%s" % (setup[n]["create_s"], n) for n in sorted(setup, key=int))


def source_line(source):
    if not source:
        return "not recorded"
    dirty = source.get("uncommitted") or []
    if source.get("copy"):
        return "commit %s (a clean copy made with `git archive`, apart from the shared work tree)" % source["commit"]
    if not dirty:
        return "commit %s, no uncommitted change under plugins/, roles/, playbooks/" % source["commit"]
    return "commit %s plus uncommitted changes in %d file(s) under plugins/, roles/, playbooks/ (%s)" % (
        source["commit"], len(dirty), ", ".join(dirty[:8]) + (", ..." if len(dirty) > 8 else ""))


def table(results):
    rows = results["rows"]
    tools = [t for t in "adebc" if any(r["tool"] == t for r in rows)]
    lines = [
        "| N | tool | run | runs | median wall (s) | x floor | client CPU (s) | requests | by verb | writes "
        "| peak RSS (MB) | API server RSS (MB) | load |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for n in sizes(rows):
        for phase in PHASES:
            floor = row(rows, "d", n, phase)
            for tool in tools:
                r = row(rows, tool, n, phase)
                if not r:
                    continue
                mark = " \\*" if r.get("extrapolated_from") else ""
                ratio = "%.2f" % (r["median_s"] / floor["median_s"]) if floor else "-"
                api = fmt_mb((r.get("apiserver") or {}).get("rss_max_kib"))
                load = "%.1f" % max(r["load_max"]) if r.get("load_max") else "-"
                lines.append("| %d | (%s) | %s | %d | %.2f%s | %s | %.2f | %d%s | %s | %d%s | %s | %s | %s |" % (
                    n, tool, phase, r["runs"], r["median_s"], mark, ratio, r["median_cpu_s"], r["requests"], mark,
                    fmt_verbs(r["by_verb"]), r["writes"], mark, fmt_mb(module_peak(r)), api, load))
    return lines


def event_section(event):
    lines = ["", "## Event-driven", ""]
    if event.get("description"):
        lines += [event["description"].strip(), ""]
    if event.get("error"):
        lines += ["The event-driven benchmark failed in this run: %s" % event["error"], ""]
    columns = event.get("columns") or []
    if columns and event.get("rows"):
        lines.append("| " + " | ".join(header for _key, header in columns) + " |")
        lines.append("| " + " | ".join("---" for _c in columns) + " |")
        for r in event["rows"]:
            cells = []
            for key, _header in columns:
                value = r.get(key)
                cells.append("-" if value is None else ("%.2f" % value if isinstance(value, float) else str(value)))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    for note in event.get("notes") or []:
        lines.append("- " + note)
    return lines


def render(results):
    rows = results["rows"]
    tools = results["tools"]
    sampled = sorted(set((r["tool"], r["n"], r["extrapolated_from"]) for r in rows if r.get("extrapolated_from")))
    m, v = results["machine"], results["versions"]
    results_path = results.get("results_path") or "benchmarks/results/" + results["file"]
    top = max(sizes(rows)) if rows else TARGET_N
    command = "make bench BENCH_ARGS='%s'" % results["args"] if results.get("args") else "make bench"
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by benchmarks/page.py from %s; do not edit by hand. -->" % results_path,
        "",
        "One job in N = %s namespaces, on a local control plane of its own (`.cluster-bench`):"
        % ", ".join("{:,}".format(n) for n in sizes(rows)),
        "in every namespace a `kubernetes.io/dockerconfigjson` pull secret with two registries, linked",
        "to the `default` service account, and a `system:image-puller` RoleBinding for the service",
        "accounts of another project. Every figure below comes from one run of `make bench`",
        "(%s, results file `%s`)." % (results["date"], results_path),
        "",
    ]
    for tool in [t for t in "adebc" if t in tools]:
        lines.append("- **(%s)** %s" % (tool, tools[tool]))
    lines += ["", "## Targets at N = {:,}".format(top), ""]
    for t in results.get("targets") or targets(results):
        lines.append("- **%s** %s: %s" % (verdict(t), t["target"], t["measured"]))
    if results.get("complete") is False:
        lines += ["", "**This run stopped before its end**: it measured N = %s of the N = %s it was given."
                  % (", ".join(str(n) for n in sizes(rows)) or "none", ", ".join(str(n) for n in results.get("sizes") or []))]
    lines += ["", "## Results", ""] + table(results)
    a_tasks = [r for r in rows if r["tool"] in COLLECTION and r["n"] == top and r.get("tasks_s")]
    if a_tasks:
        lines += ["", "Where the collection's time goes at N=%d (tasks of 0.5 s or more, ansible.posix.profile_tasks, seconds):" % top, ""]
        for r in a_tasks:
            lines.append("- (%s) %s: %s" % (r["tool"], r["phase"], "; ".join(
                "%s %.1f" % (name.split(" : ", 1)[-1], sec) for name, sec in r["tasks_s"].items()
                if sec >= 0.5 and name != "Total")))
    if sampled:
        lines += ["", "\\* Sampled, not measured over all N: " + "; ".join(
            "(%s) at N=%d ran over %d of the namespaces (all %d present), its time, CPU, per-namespace requests and "
            "writes scaled by %g" % (t, n, k, n, float(n) / k) for t, n, k in sampled)
            + ". A loop's cost per namespace does not depend on N; `make bench BENCH_ARGS=--full` measures every N in full."]
    if results.get("event_driven"):
        lines += event_section(results["event_driven"])
    lines += [
        "",
        "## How it is measured",
        "",
        "- Each first run starts with no secret, link or binding in any namespace; the rerun follows on the",
        "  unchanged cluster; the audit (e) reads the state (a) made. Between repetitions the driver removes",
        "  what the run made. Each tool runs %d time(s) at N below %s and once from there, and once at an N"
        % (results.get("reps", 3), "{:,}".format(results.get("one_rep_from") or TARGET_N)),
        "  where a run of it took over %d s; `runs` says how many the median is of." % results.get("single_run_after", 60),
        "- Setup: the driver creates the namespaces and their `default` service accounts, %d requests at once"
        % results.get("setup_parallel", 16),
        "  (%s); the bench cluster runs without the root CA publisher, so no controller writes while a tool"
        % setup_line(results),
        "  is timed. After each N the bench cluster is removed.",
        "- Wall time: the whole command, interpreter and `ansible-playbook` start-up included. Client CPU: user",
        "  plus system time of the command and all its child processes. x floor: median wall time over the",
        "  floor's (d) for the same N and run.",
        "- Requests: the tool's own, from the API server's audit log (tests/helpers/audit.py, which follows",
        "  its rotation); the controllers' and the driver's requests are not counted. Writes: create, update,",
        "  patch and delete.",
        "- Peak RSS: the high-water mark (VmHWM) of the process doing the work, polled from /proc every",
        "  %g s over the command's process tree: the largest Ansible module process (the AnsiballZ child of"
        % results.get("poll_interval_s", 0.1),
        "  `ansible-playbook`) for (a), (b) and (e), the script for (d), the largest `kubectl` for (c).",
        "  `ansible-playbook`'s own peak is in the results file (`controller_peak_kib`).",
        "- API server RSS: the largest VmRSS of the bench cluster's `kube-apiserver` sampled while the command",
        "  ran (the cluster is new for each N). Load: the largest 1-minute load average sampled while it ran.",
        "- The floor (d) lists each kind once without paging and sends only the missing writes through the",
        "  collection's own client, with no validation, diff or result: a lower bound, not a tool.",
        "",
        "## Machine and load",
        "",
        "- %s, %d cores, %.1f GiB memory (%s)" % (m.get("cpu", "?"), m["nproc"], m["memory_gib"], m["platform"]),
        "- Load during the run: %s" % load_summary(results),
        "- Whole run: %.0f s (%s); command `%s`" % (results["total_wall_s"], results["date"], command),
        "- Versions: " + ", ".join("%s %s" % (k, val) for k, val in v.items()),
        "- Collection: %s" % source_line(results.get("source")),
        "",
        "## Reproduce",
        "",
        "```",
        "make bench",
        "```",
        "",
        "It makes `.venv-bench` from `benchmarks/requirements-bench.txt` (kubernetes.core from the `ansible`",
        "package, for the comparison only), starts the bench cluster (ports 36xxx, removed at the end),",
        "runs `benchmarks/bench.py`, writes `benchmarks/results/<date>.json` and this page",
        "(`benchmarks/page.py <results.json>` rewrites the page from a results file). Its defaults: N = 10,",
        "100, 1,000 and 10,000, three repetitions below 10,000, (b) over 25 and (c) over 100 namespaces when",
        "N is larger; this run's own arguments are under Machine and load.",
        "`make bench-quick` (part of `make test`) runs N = 10 once on a cluster of its own and writes",
        "nothing into the repository.",
        "",
    ]
    return "\n".join(lines)


def write(results, path=DOCS):
    with open(path, "w") as f:
        f.write(render(results))
    return path


def main(argv):
    if len(argv) not in (1, 2):
        print(__doc__)
        return 2
    with open(argv[0]) as f:
        results = json.load(f)
    print("wrote %s" % write(results, argv[1] if len(argv) > 1 else DOCS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

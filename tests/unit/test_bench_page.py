"""benchmarks/page.py: the benchmark page and its targets come from one results file, judged right."""

import copy
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import page  # noqa: E402  pylint: disable=wrong-import-position

MIB = 1024


def bench_row(tool, n, phase, median, requests, writes, by_verb, worker_mib=None, modules=None, sampled=None):
    return {"tool": tool, "n": n, "phase": phase, "runs": 1, "wall_s": [median], "median_s": median,
            "median_cpu_s": median / 2, "requests": requests, "by_verb": by_verb, "writes": writes,
            "writes_all_runs": [writes], "requests_all_runs": [requests], "load_max": [3.5],
            "memory": {"worker_name": max(modules, key=modules.get) if modules else tool,
                       "worker_peak_kib": worker_mib and worker_mib * MIB,
                       "modules_kib": dict((k, v * MIB) for k, v in (modules or {}).items())},
            "apiserver": {"rss_max_kib": 900 * MIB}, "extrapolated_from": sampled}


def results(a_first=60.0, d_first=45.0, rerun_requests=9, rerun_writes=0, module_mib=210, top=10000):
    first = {"create": 2 * top, "update": top, "list": 5}
    rows = [
        bench_row("a", top, "first", a_first, 3 * top + 6, 3 * top, first, module_mib,
                  {"pull_secret": module_mib, "image_puller_binding": module_mib - 40}),
        bench_row("a", top, "rerun", 8.0, rerun_requests, rerun_writes, {"get": 1, "list": rerun_requests - 1}, 150,
                  {"pull_secret": 150, "image_puller_binding": 120}),
        bench_row("e", top, "audit", 20.0, 6, 0, {"get": 1, "list": 5}, 250, {"registry_access_info": 250}),
        bench_row("d", top, "first", d_first, 3 * top + 4, 3 * top, {"create": 2 * top, "update": top, "list": 4}, 120),
        bench_row("d", top, "rerun", 4.0, 4, 0, {"list": 4}, 110),
        bench_row("b", top, "first", 20000.0, 6 * top, 3 * top, {"get": 3 * top}, 80, {"k8s": 80}, sampled=25),
        bench_row("b", top, "rerun", 19000.0, 6 * top, 3 * top, {"get": 3 * top}, 80, {"k8s": 80}, sampled=25),
    ]
    return {"date": "2026-12-02 01:40 UTC", "file": "2026-12-02T014000Z.json", "args": "", "rows": rows,
            "machine": {"nproc": 2, "memory_gib": 23.5, "cpu": "AMD EPYC", "platform": "Linux"},
            "versions": {"python": "3.11.7", "kube-apiserver": "v1.36.3"}, "total_wall_s": 2400,
            "load": {"interval_s": 5, "samples": [[0, 2.0, 2, 2], [5, 6.0, 3, 2], [10, 4.0, 3, 2]]},
            "apiserver_by_n": {str(top): {"hwm_kib": 1200 * MIB}},
            "tools": {"a": "collection", "b": "kubernetes.core", "d": "floor", "e": "audit"}}


def verdicts(res):
    return dict((t["target"].split(" at N=")[0], page.verdict(t)) for t in page.targets(res))


def test_all_targets_met():
    got = verdicts(results())
    assert got == {"(a) first run at most 1.5x the floor (d)": "MET",
                   "(a) rerun on the unchanged cluster sends 0 writes (every N, every repetition)": "MET",
                   "(a) rerun at most 10 requests": "MET",
                   "peak RSS of the collection's module process below 300 MB": "MET",
                   "API server memory reported": "REPORTED",
                   "(a) at least 20x faster than the kubernetes.core loop (b)": "MET",
                   "(a) first run writes exactly what is missing: 3 objects per namespace": "MET"}


def test_each_target_can_be_missed():
    assert verdicts(results(a_first=68.0))["(a) first run at most 1.5x the floor (d)"] == "MISSED"
    assert verdicts(results(rerun_requests=11))["(a) rerun at most 10 requests"] == "MISSED"
    assert verdicts(results(rerun_writes=1))[
        "(a) rerun on the unchanged cluster sends 0 writes (every N, every repetition)"] == "MISSED"
    # the audit's module counts too: it is the collection's module process
    assert verdicts(results(module_mib=290))["peak RSS of the collection's module process below 300 MB"] == "MET"
    res = results()
    res["rows"][2]["memory"]["worker_peak_kib"] = 301 * MIB
    assert verdicts(res)["peak RSS of the collection's module process below 300 MB"] == "MISSED"


def test_targets_name_a_run_that_stopped_below_10000():
    texts = [t["target"] for t in page.targets(results(top=1000))]
    assert "(a) rerun at most 10 requests at N=1000 (this run stopped below 10000)" in texts


def test_page_is_one_table_from_one_file():
    res = results()
    res["targets"] = page.targets(res)
    text = page.render(res)
    assert text.count("| N | tool |") == 1
    assert "benchmarks/results/2026-12-02T014000Z.json" in text
    assert "| 10000 | (a) | first | 1 | 60.00 | 1.33 |" in text
    assert "| 10000 | (b) | first | 1 | 20000.00 \\* |" in text  # sampled rows say so
    assert "(b) at N=10000 ran over 25 of the namespaces" in text
    assert "| 10000 | (e) | audit | 1 | 20.00 | - |" in text
    assert "- **MET** (a) first run at most 1.5x the floor (d) at N=10000: (a) 60.0 s, (d) 45.0 s: 1.33x" in text
    assert "1-minute load average 2.0 to 6.0, median 4.0, on 2 cores" in text
    assert "Event-driven" not in text
    assert "Profile" not in text and "before" not in text.lower().split("## reproduce")[0].split("## results")[0]


def test_event_driven_section_and_its_targets():
    res = results()
    res["event_driven"] = {
        "description": "A burst of namespaces created at once; time until each is enforced.",
        "columns": [["burst", "namespaces"], ["p95_s", "p95 (s)"], ["writes", "writes"]],
        "rows": [{"burst": 100, "p95_s": 4.25, "writes": 300}],
        "targets": [{"target": "event-driven: a burst of 100 enforced within 30 s", "met": True, "measured": "4.3 s"}],
        "notes": ["Rulebook run by ansible-rulebook."],
    }
    res["targets"] = page.targets(res)
    text = page.render(res)
    assert "## Event-driven" in text
    assert "| namespaces | p95 (s) | writes |" in text and "| 100 | 4.25 | 300 |" in text
    assert "- **MET** event-driven: a burst of 100 enforced within 30 s: 4.3 s" in text
    assert "- Rulebook run by ansible-rulebook." in text
    broken = copy.deepcopy(res)
    broken["event_driven"] = {"error": "benchmarks/event_bench.py exited 1"}
    assert "failed in this run: benchmarks/event_bench.py exited 1" in page.render(broken)


def test_write_and_main(tmp_path):
    res = results()
    res["targets"] = page.targets(res)
    src = tmp_path / "r.json"
    src.write_text(json.dumps(res))
    out = tmp_path / "page.md"
    assert page.main([str(src), str(out)]) == 0
    assert out.read_text() == page.render(res)


def test_proc_watch_sees_a_module_process_peak(tmp_path):
    """bench.py's /proc poller names an AnsiballZ child by its module and keeps its high-water mark."""
    sys.path.insert(0, os.path.join(REPO, "tests", "cluster"))
    sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))
    import bench  # pylint: disable=import-outside-toplevel
    module = tmp_path / "AnsiballZ_probe.py"
    module.write_text("import time\nblock = bytearray(80 * 1024 * 1024)\nblock = None\ntime.sleep(0.5)\n")
    wrapper = "import subprocess, sys; subprocess.run([sys.executable, %r], check=True)" % str(module)
    proc = subprocess.Popen([sys.executable, "-c", wrapper])
    with bench.ProcWatch(proc.pid, os.getpid()) as watch:
        proc.wait()
    memory = watch.memory("a")
    assert memory["worker_name"] == "probe"
    assert memory["worker_peak_kib"] > 80 * MIB  # freed before the end: only the high-water mark knows
    assert memory["controller_peak_kib"] < memory["worker_peak_kib"]
    assert watch.apiserver_max > 0  # this process stands in for the API server


def test_task_times_from_profile_tasks(tmp_path):
    sys.path.insert(0, os.path.join(REPO, "tests", "cluster"))
    sys.path.insert(0, os.path.join(REPO, "tests", "helpers"))
    import bench  # pylint: disable=import-outside-toplevel
    log = tmp_path / "a.log"
    log.write_text("TASKS RECAP ****\n"
                   "Wednesday 02 December 2026  00:57:25 +0000 (0:00:14.130)       0:00:14.130 ****\n"
                   "===============\n"
                   "Cluster-wide pull secret ------------------------------------------------ 0.16s\n"
                   "ocp.registry_access.project_access : Enforce pull secrets and their service account links -- 12.34s\n"
                   "ok: [localhost] => some - 1.00s of output\n")
    assert bench.task_times(str(log)) == {"Cluster-wide pull secret": 0.16,
                                          "ocp.registry_access.project_access : Enforce pull secrets and their "
                                          "service account links": 12.34}

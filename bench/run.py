"""Benchmarks: tlsdoc against tshark and scapy on a large synthetic TLS 1.3 capture.

    make bench                       # the full run: ~1 GB capture, 50,000 connections
    python bench/run.py --quick      # a smoke run on small files (about a minute)
    python bench/run.py --connections 10000

What is measured (one run of each tool on the same file, warm page cache;
see bench/README.md for how to read it):

(a) handshake summary: ``tlsdoc show --json`` against ``tshark -T fields``
    extracting ClientHello/ServerHello fields; frames per second, and the
    ratio tlsdoc/tshark (target: at least 4);
(b) the same extraction with scapy's TLS layer, on a file 1/50 the size;
(c) decryption (issue 5): ``tlsdoc decrypt --json --keylog`` against tshark
    with the key log printing every HTTP response code (target: at least 3),
    when ``tlsdoc decrypt`` exists;
(d) peak RSS of every child (``os.wait4``), for tlsdoc on the full file and
    on the 1/4-size file: it should stay under 150 MB and not grow with the
    file.

Each run's output is checked (right number of connections, hellos, SNIs,
HTTP 200s) so a fast wrong answer does not count.  Captures, outputs and
``results.json`` go to bench/data/ (gitignored); captures are reused when
present (``--regenerate`` makes them again).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import synth  # noqa: E402  (bench/synth.py, next to this file)

PY = sys.executable
TLSDOC = [PY, "-m", "tlsdoc"]
TSHARK = shutil.which("tshark")
HELLO_FIELDS = ["tls.handshake.type", "tls.handshake.version", "tls.handshake.ciphersuite",
                "tls.handshake.extensions_server_name", "tls.handshake.random"]
#: The tool name of the runs with ``--jobs 1`` (the "tlsdoc" runs use the
#: default: worker processes on idle CPUs, as a user would run it).
ONE_PROCESS = "tlsdoc-j1"
TARGET_SHOW = 4.0
TARGET_DECRYPT = 3.0
TARGET_RSS_MB = 150.0


@dataclass
class Capture:
    label: str  # "full", "1/4", "1/50"
    connections: int
    pcap: Path
    keylog: Path
    frames: int = 0
    bytes: int = 0
    generated_seconds: float | None = None  # None when reused


@dataclass
class Run:
    task: str  # "show", "decrypt"
    tool: str  # "tlsdoc", "tlsdoc-j1" (one process), "tshark", "scapy"
    capture: str  # label
    seconds: float = 0.0
    frames_per_s: float = 0.0
    peak_rss_mb: float = 0.0
    exit: int = 0
    check: str = ""  # "ok" or what was wrong
    ok: bool = False
    argv: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Measuring a child: wall time and peak RSS from wait4.


# A fork inherits its parent's resident pages, and Linux carries the pre-exec
# high-water mark into ru_maxrss after exec: a child forked from this process
# (which holds big JSON documents) would report our RSS, not its own.  So each
# child is started by a fresh, small interpreter that forks, execs, waits
# (os.wait4) and reports the child's own time and peak RSS.
LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
began = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - began
with open(report, "w") as f:
    f.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def measure(argv: list[str], stdout: Path, *, timeout: float) -> tuple[float, float, int, str]:
    """Run *argv* with stdout to a file; return (seconds, peak RSS MB, exit status, stderr tail)."""
    stderr_path = stdout.with_suffix(stdout.suffix + ".err")
    report = stdout.with_suffix(stdout.suffix + ".rusage")
    report.unlink(missing_ok=True)
    with open(stdout, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen([PY, "-I", "-S", "-c", LAUNCHER, str(report), *argv], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, cwd=ROOT, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
    tail = " | ".join(stderr_path.read_text(errors="replace").strip().splitlines()[-3:])
    try:
        seconds, maxrss_kb, status = report.read_text().split()
    except (OSError, ValueError):
        return 0.0, 0.0, -9, f"killed after {timeout:.0f} s " + tail
    return float(seconds), int(maxrss_kb) / 1024.0, int(status), tail


def warm(path: Path) -> None:
    """Read a file once so every tool meets it in the page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def compile_tlsdoc() -> None:
    """Write tlsdoc's bytecode, as an installed package has it.

    A checkout run with PYTHONDONTWRITEBYTECODE set (some machines set it)
    never caches its bytecode, and every run would compile every module
    first (0.06 s of a 0.2 s start here): a cost no installed tlsdoc pays.
    """
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "tlsdoc")], check=True)


def count_frames(path: Path) -> int:
    """Frames in a classic pcap (little-endian, as synth writes)."""
    frames = 0
    size = path.stat().st_size
    with open(path, "rb") as f:
        pos = 24
        while pos + 16 <= size:
            f.seek(pos + 8)
            caplen = int.from_bytes(f.read(4), "little")
            pos += 16 + caplen
            frames += 1
    return frames


def ensure_capture(label: str, connections: int, directory: Path, regenerate: bool) -> Capture:
    pcap, keys = synth.default_paths(connections, directory)
    cap = Capture(label, connections, pcap, keys)
    if regenerate or not (pcap.exists() and keys.exists()):
        log(f"generating {pcap.name} ({connections:,} connections) ...")

        shown = []

        def progress(s: synth.Summary) -> None:
            shown.append(1)
            line = f"  {s.frames:,} frames, {s.bytes / 1e6:,.0f} MB, {s.seconds:.0f} s"
            if sys.stderr.isatty():
                print("\r" + line, end="", file=sys.stderr, flush=True)
            elif len(shown) % 10 == 1:
                print(line, file=sys.stderr, flush=True)

        summary = synth.synthesise(pcap, keys, connections, progress=progress)
        if shown and sys.stderr.isatty():
            print("", file=sys.stderr)
        cap.frames, cap.bytes, cap.generated_seconds = summary.frames, summary.bytes, summary.seconds
        log(f"  wrote {summary.bytes / 1e6:,.1f} MB, {summary.frames:,} frames in {summary.seconds:.1f} s")
    else:
        cap.frames, cap.bytes = count_frames(pcap), pcap.stat().st_size
        log(f"reusing {pcap.name} ({cap.bytes / 1e6:,.1f} MB, {cap.frames:,} frames)")
    return cap


# --------------------------------------------------------------------------
# The expected answer, from the synthesiser's own plan (cheap: no crypto).


def expected_snis(connections: int) -> collections.Counter:
    return collections.Counter(synth.sni_for(i) for i in range(connections))


def check_hello_tsv(path: Path, cap: Capture) -> str:
    types = collections.Counter()
    snis = collections.Counter()
    for line in path.read_text(errors="replace").splitlines():
        cols = line.split("\t")
        for kind in cols[0].split(","):
            types[kind] += 1
        if cols[0] == "1" and len(cols) > 3:
            snis[cols[3]] += 1
    problems = []
    if types["1"] != cap.connections:
        problems.append(f"{types['1']} ClientHellos, expected {cap.connections}")
    if types["2"] != cap.connections:
        problems.append(f"{types['2']} ServerHellos, expected {cap.connections}")
    if snis != expected_snis(cap.connections):
        problems.append("SNIs differ from what was written")
    return "; ".join(problems) or "ok"


def check_show_json(path: Path, cap: Capture, *, decrypt: bool) -> str:
    try:
        with open(path, "rb") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        return f"no JSON document ({exc.__class__.__name__})"
    conns = doc.get("connections") or []
    problems = []
    if len(conns) != cap.connections:
        problems.append(f"{len(conns)} connections, expected {cap.connections}")
    tls = [c.get("tls") or {} for c in conns]
    versions = collections.Counter(t.get("version") for t in tls)
    if versions.get("TLS 1.3", 0) != cap.connections:
        problems.append(f"versions {dict(versions)}")
    if collections.Counter(t.get("sni") for t in tls) != expected_snis(cap.connections):
        problems.append("SNIs differ from what was written")
    if decrypt:
        ok = sum(
            1 for c in conns for h in (c.get("http") or [])
            if str(h.get("response") or "").startswith("HTTP/1.1 200 ")
        )
        if ok != cap.connections:
            problems.append(f"{ok} HTTP 200 responses, expected {cap.connections}")
    warnings = doc.get("warnings") or []
    if warnings:
        problems.append(f"{len(warnings)} warnings, e.g. {str(warnings[0])[:80]}")
    return "; ".join(problems) or "ok"


def check_tshark_http(path: Path, cap: Capture) -> str:
    codes = collections.Counter(
        line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()
    )
    if codes.get("200", 0) != cap.connections:
        return f"{codes.get('200', 0)} HTTP 200 responses, expected {cap.connections}"
    return "ok"


# --------------------------------------------------------------------------


def tlsdoc_has(command: str) -> bool:
    try:
        proc = subprocess.run(TLSDOC + [command, "--help"], cwd=ROOT, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def versions() -> dict:
    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": "",
        "tshark": None,
        "scapy": None,
        "tlsdoc": None,
        "tlsdoc_commit": None,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if TSHARK:
        out = subprocess.run([TSHARK, "--version"], capture_output=True, text=True).stdout
        found = re.search(r"\d+\.\d+\.\d+", out)
        info["tshark"] = found.group(0) if found else None
    try:
        import scapy

        info["scapy"] = scapy.__version__
    except ImportError:
        pass
    out = subprocess.run(TLSDOC + ["--version"], cwd=ROOT, capture_output=True, text=True)
    info["tlsdoc"] = out.stdout.strip().removeprefix("tlsdoc ") or None
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    info["tlsdoc_commit"] = out.stdout.strip() or None
    return info


def markdown(results: dict) -> str:
    """The results as the Markdown that bench/README.md's Results section takes."""
    info = results["info"]
    caps = {c["label"]: c for c in results["captures"]}
    out = [f"### {info['date'][:10]}, tlsdoc commit {info['tlsdoc_commit']}", "",
           f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
           f"tshark {info['tshark']}, scapy {info['scapy']}.", ""]
    for c in results["captures"]:
        gen = f", generated in {c['generated_seconds']:.1f} s" if c["generated_seconds"] is not None else ""
        out.append(f"- `{Path(c['pcap']).name}` ({c['label']}): {c['bytes'] / 1e6:,.1f} MB, "
                   f"{c['frames']:,} frames, {c['connections']:,} connections{gen}")
    out += ["", "| task | tool | file | seconds | frames/s | peak RSS (MB) | check |",
            "|---|---|---|---:|---:|---:|---|"]
    for r in results["runs"]:
        c = caps[r["capture"]]
        out.append(f"| {r['task']} | {r['tool']} | {r['capture']} ({c['bytes'] / 1e6:,.0f} MB) | "
                   f"{r['seconds']:.2f} | {r['frames_per_s']:,.0f} | {r['peak_rss_mb']:.1f} | {r['check']} |")
    out.append("")
    out += [f"- speed ratio {k}: {v:.2f}x" for k, v in results["ratios"].items()]
    out += [f"- {v}" for v in results["verdicts"] + results["notes"]]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small files (2,000 connections): a smoke run")
    parser.add_argument("--connections", type=int, help="connections in the full file (default 50,000)")
    parser.add_argument("--regenerate", action="store_true", help="make the captures again")
    parser.add_argument("--data", type=Path, default=synth.DATA_DIR, help="where captures and outputs go")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a run is killed")
    args = parser.parse_args(argv)
    n = args.connections or (2_000 if args.quick else synth.DEFAULT_CONNECTIONS)
    data = args.data
    data.mkdir(parents=True, exist_ok=True)
    out_dir = data / "out"
    out_dir.mkdir(exist_ok=True)

    info = versions()
    log(f"tlsdoc {info['tlsdoc']} ({info['tlsdoc_commit']}), Python {info['python']}, tshark {info['tshark']}, "
        f"scapy {info['scapy']}, {info['nproc']} CPUs ({info['cpu']})")

    compile_tlsdoc()
    full = ensure_capture("full", n, data, args.regenerate)
    quarter = ensure_capture("1/4", max(n // 4, 1), data, args.regenerate)
    small = ensure_capture("1/50", max(n // 50, 1), data, args.regenerate)
    captures = {c.label: c for c in (full, quarter, small)}

    has_show = tlsdoc_has("show")
    has_decrypt = tlsdoc_has("decrypt")
    runs: list[Run] = []
    notes: list[str] = []

    def go(task: str, tool: str, cap: Capture, argv: list[str], checker) -> Run:
        name = f"{task}-{tool}-{cap.connections}"
        stdout = out_dir / f"{name}.out"
        warm(cap.pcap)
        log(f"{task:8} {tool:9} {cap.label:5} ...")
        seconds, rss, status, tail = measure(argv, stdout, timeout=args.timeout)
        run = Run(task, tool, cap.label, seconds, cap.frames / seconds if seconds else 0.0, rss, status, argv=argv)
        if status != 0:
            run.check = f"exit {status}: {tail[:160]}"
        else:
            run.check = checker(stdout, cap)
        run.ok = run.check == "ok"
        log(f"         {seconds:8.2f} s  {run.frames_per_s:>10,.0f} frames/s  {rss:7.1f} MB  {run.check}")
        runs.append(run)
        return run

    def tshark_hello(cap: Capture) -> list[str]:
        argv = [TSHARK, "-n", "-r", str(cap.pcap), "-o", "tcp.reassemble_out_of_order:TRUE",
                "-Y", "tls.handshake.type == 1 || tls.handshake.type == 2", "-T", "fields"]
        for f in HELLO_FIELDS:
            argv += ["-e", f]
        return argv

    def tshark_decrypt(cap: Capture) -> list[str]:
        return [TSHARK, "-n", "-r", str(cap.pcap), "-o", "tcp.reassemble_out_of_order:TRUE",
                "-o", f"tls.keylog_file:{cap.keylog}", "-Y", "http", "-T", "fields",
                "-e", "http.response.code"]

    # (a) and (d): show, full and 1/4 (RSS), and 1/50 (to set beside scapy)
    for cap in (full, quarter, small):
        if has_show:
            go("show", "tlsdoc", cap, TLSDOC + ["show", str(cap.pcap), "--json"],
               lambda p, c: check_show_json(p, c, decrypt=False))
            if cap is full:  # the same in one process, for comparison
                go("show", ONE_PROCESS, cap, TLSDOC + ["show", str(cap.pcap), "--json", "--jobs", "1"],
                   lambda p, c: check_show_json(p, c, decrypt=False))
        if TSHARK:
            go("show", "tshark", cap, tshark_hello(cap), check_hello_tsv)
    if not has_show:
        notes.append("show: `tlsdoc show` not available yet")
    if not TSHARK:
        notes.append("tshark not installed: no tshark runs")

    # (b) scapy on the 1/50 file
    try:
        import scapy  # noqa: F401

        go("show", "scapy", small, [PY, str(BENCH / "scapy_hello.py"), str(small.pcap)], check_hello_tsv)
    except ImportError:
        notes.append("scapy not installed (pip install -e '.[bench]'): no scapy run")

    # (c) decrypt, full and 1/4
    if has_decrypt:
        for cap in (full, quarter):
            go("decrypt", "tlsdoc", cap,
               TLSDOC + ["decrypt", str(cap.pcap), "--keylog", str(cap.keylog), "--json"],
               lambda p, c: check_show_json(p, c, decrypt=True))
            if cap is full:
                go("decrypt", ONE_PROCESS, cap,
                   TLSDOC + ["decrypt", str(cap.pcap), "--keylog", str(cap.keylog), "--json", "--jobs", "1"],
                   lambda p, c: check_show_json(p, c, decrypt=True))
            if TSHARK:
                go("decrypt", "tshark", cap, tshark_decrypt(cap), check_tshark_http)
    else:
        notes.append("decrypt: not available yet")
        log("decrypt: not available yet")

    # ratios and targets
    def find(task: str, tool: str, label: str) -> Run | None:
        return next((r for r in runs if (r.task, r.tool, r.capture) == (task, tool, label)), None)

    ratios = {}
    verdicts = []
    for task, target in (("show", TARGET_SHOW), ("decrypt", TARGET_DECRYPT)):
        for label in captures:
            mine, theirs = find(task, "tlsdoc", label), find(task, "tshark", label)
            one = find(task, ONE_PROCESS, label)
            if one and theirs and one.seconds and theirs.seconds:
                ratios[f"{task} {label} {ONE_PROCESS}/tshark"] = theirs.seconds / one.seconds
            if mine and theirs and mine.seconds and theirs.seconds:
                ratio = theirs.seconds / mine.seconds
                ratios[f"{task} {label} tlsdoc/tshark"] = ratio
                if label == "full":
                    good = ratio >= target and mine.ok and theirs.ok
                    verdicts.append(f"{task}: tlsdoc/tshark = {ratio:.2f}x (target >= {target:g}x) "
                                    f"{'MET' if good else 'NOT MET'}")
    scapy_run, small_tlsdoc = find("show", "scapy", "1/50"), find("show", "tlsdoc", "1/50")
    if scapy_run and small_tlsdoc and small_tlsdoc.seconds:
        ratios["show 1/50 tlsdoc/scapy"] = scapy_run.seconds / small_tlsdoc.seconds
    for task in ("show", "decrypt"):
        a, b = find(task, "tlsdoc", "full"), find(task, "tlsdoc", "1/4")
        if a and b:
            flat = a.peak_rss_mb <= max(1.25 * b.peak_rss_mb, b.peak_rss_mb + 16)
            good = a.peak_rss_mb <= TARGET_RSS_MB and flat
            verdicts.append(f"{task} peak RSS: {a.peak_rss_mb:.0f} MB on {full.bytes / 1e6:,.0f} MB, "
                            f"{b.peak_rss_mb:.0f} MB on {quarter.bytes / 1e6:,.0f} MB "
                            f"(target <= {TARGET_RSS_MB:g} MB and flat) {'MET' if good else 'NOT MET'}")

    # the table
    print()
    print(f"tlsdoc benchmark  {info['date']}  tlsdoc {info['tlsdoc']} ({info['tlsdoc_commit']})")
    print(f"Python {info['python']}, tshark {info['tshark']}, scapy {info['scapy']}; "
          f"{info['nproc']} CPUs: {info['cpu']}")
    print()
    print(f"{'file':22} {'label':>5} {'MB':>9} {'frames':>11} {'conns':>8} {'generated':>10}")
    for c in captures.values():
        gen = f"{c.generated_seconds:.1f} s" if c.generated_seconds is not None else "reused"
        print(f"{c.pcap.name:22} {c.label:>5} {c.bytes / 1e6:9,.1f} {c.frames:11,} {c.connections:8,} {gen:>10}")
    print()
    print(f"{'task':8} {'tool':9} {'file':>5} {'seconds':>9} {'frames/s':>11} {'peak RSS MB':>12}  check")
    for r in runs:
        print(f"{r.task:8} {r.tool:9} {r.capture:>5} {r.seconds:9.2f} {r.frames_per_s:11,.0f} "
              f"{r.peak_rss_mb:12.1f}  {r.check}")
    print()
    for name, value in ratios.items():
        print(f"speed ratio {name}: {value:.2f}x")
    for v in verdicts:
        print(v)
    for note in notes:
        print(note)

    results = {
        "info": info,
        "captures": [{**asdict(c), "pcap": str(c.pcap), "keylog": str(c.keylog)} for c in captures.values()],
        "runs": [asdict(r) for r in runs],
        "ratios": ratios,
        "verdicts": verdicts,
        "notes": notes,
    }
    (data / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (data / "results.md").write_text(markdown(results))
    print(f"\nwrote {data / 'results.json'} and {data / 'results.md'}")
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

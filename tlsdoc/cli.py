"""The ``tlsdoc`` command: show, decrypt and verify captures.

Consumes command-line arguments, produces text or one JSON document on
stdout, warnings and errors on stderr, and an exit status.  The contract is
DESIGN.md's::

    tlsdoc show    CAPTURE [--keylog FILE] [--key PEM]... [--json]
    tlsdoc decrypt CAPTURE [--keylog FILE] [--key PEM]... [--json]
    tlsdoc verify  CAPTURE [--keylog FILE] [--key PEM]... [--ca PEM] [--json]

* ``show``: each connection's TCP and TLS handshakes; with keys the
  handshake lists are complete (decrypted messages) and ``decrypted`` is true.
* ``decrypt``: the same, plus where the keys came from, the application data
  per direction and each HTTP/1.1 request and response (headers, and the
  body when it is text, cut with a note).
* ``verify``: one line per check — ``✓`` passed, ``✗`` failed, ``–`` not
  possible — with the reason, then a tally.

``--json`` prints one document, the same for the three commands
(``capture``, ``connections`` with ``client``, ``server``, ``tcp``, ``tls``,
``application_data``, ``http``, and ``warnings``).  In ``http``, a
``request`` or ``response`` is null when that side could not be decrypted
(or the stream ended first), and ``body_sha256`` is null when there is no
complete response.  **Addition for
verify:** each connection also has ``"checks"``, a list of
``{"name": …, "status": "passed" | "failed" | "not possible", "detail": …}``
in the order ``client Finished``, ``server Finished``, ``CertificateVerify``,
``ServerKeyExchange signature`` (TLS 1.2 (EC)DHE only), ``client
CertificateVerify`` (client authentication only), ``chain`` — empty for a
connection that is not TLS.

Exit status:

* 0 — done (for ``verify``: every check that could run passed);
* 1 — ``verify`` found a failed check;
* 2 — unusable input (missing or unreadable capture, key log, key or CA
  file; not a capture; a key log without one valid line; bad arguments).

A :class:`~tlsdoc.errors.TlsdocError` becomes one line ``tlsdoc: error: …``
on stderr, never a traceback; anything else is a bug and keeps its
traceback.  ``argparse`` and ``print`` live here and nowhere else.

Big captures (:data:`PARALLEL_MIN_BYTES` and more) are analysed by worker
processes when CPUs are idle: one per idle CPU, at most
:data:`MAX_WORKERS`.  The connections are shared out by their endpoints
(:mod:`tlsdoc.shares`): each worker reads the whole file but decodes,
reassembles, analyses and renders only its share; the parent merges the
workers' events back into one process's order, so the output is byte for
byte the one-process output.  On a busy machine no worker is started.
Peak memory is that of each process.  ``--jobs N`` overrides the choice,
for a capture of any size (``--jobs 1``: no worker).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import signal
import sys
import time
import traceback
from typing import IO, Sequence

from tlsdoc import __version__, analysis, capture, shares
from tlsdoc.errors import CaptureError, TlsdocError
from tlsdoc.render import jsondoc, text

__all__ = ["main", "build_parser", "PARALLEL_MIN_BYTES", "MAX_WORKERS"]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but with our one-line error format and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"tlsdoc: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; the handbook's CLI reference is generated from it."""
    parser = _Parser(
        prog="tlsdoc",
        description=(
            "Walk through the TCP and TLS handshakes in a packet capture "
            "(pcap or pcapng), decrypt it with a key log or the server's RSA key, "
            "and check what can be checked."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tlsdoc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("capture", metavar="CAPTURE", help="a pcap or pcapng file")
        sub.add_argument(
            "--keylog",
            metavar="FILE",
            help="an NSS key log file (SSLKEYLOGFILE) with the session secrets",
        )
        sub.add_argument(
            "--key",
            metavar="PEM",
            action="append",
            default=[],
            help="the server's RSA private key (PEM); may be given several times",
        )
        sub.add_argument("--json", action="store_true", help="print one JSON document")
        sub.add_argument(
            "--jobs",
            metavar="N",
            type=_jobs,
            default=0,
            help="worker processes: 1 for none; N to share the connections between N "
            "(same output); default: one per idle CPU for a big capture",
        )
        return sub

    add(
        "show",
        "List each TCP connection: its 3-way handshake, and for TLS the version, "
        "cipher suite, SNI, ALPN and each side's handshake messages with frame numbers.",
    )
    add(
        "decrypt",
        "Decrypt each TLS connection with a key log (--keylog) or the server's RSA key "
        "(--key, RSA key exchange only) and show the HTTP requests and responses inside.",
    )
    verify = add(
        "verify",
        "Check what can be checked: both Finished messages, the server's signature "
        "(CertificateVerify, or ServerKeyExchange in TLS 1.2) and the certificate chain "
        "(--ca). Exit status 0 only when every check that could run passed.",
    )
    verify.add_argument(
        "--ca",
        metavar="PEM",
        help="trusted CA certificate(s), PEM, to verify the server's chain against",
    )
    return parser


#: Files smaller than this finish too quickly for a progress line to help.
PROGRESS_MIN_BYTES = 16 * 1024 * 1024


class _Progress:
    """A one-line progress indication on stderr, only when it is a terminal."""

    def __init__(self, stream: IO[str], total: int) -> None:
        self.stream = stream
        self.total = max(total, 1)
        self.enabled = stream.isatty() and total >= PROGRESS_MIN_BYTES
        self.last = 0.0

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        percent = min(100.0, 100.0 * done / self.total)
        self.stream.write(f"\rtlsdoc: reading {percent:5.1f}% ({done >> 20} MiB)")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    # The analysis makes many short-lived objects per frame and per record
    # and keeps few: collecting every 700 new objects (Python's default)
    # cost 3 to 7% of a one-process run (2 to 5% with workers, whose
    # inherited objects are frozen), mostly in collecting the older
    # generations it sets off.  Its values make almost no reference cycles,
    # so collecting every 100,000 leaves peak memory as it was
    # (bench/README.md).  The command's setting, not the library's:
    # restored on the way out.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        return _main(args)
    finally:
        gc.set_threshold(*thresholds)


def _main(args: argparse.Namespace) -> int:
    out = sys.stdout
    err = sys.stderr
    try:
        size = os.path.getsize(args.capture) if os.path.isfile(args.capture) else 0
        progress = _Progress(err, size)
        verify = args.command == "verify"
        material = None
        try:
            if args.jobs and hasattr(os, "fork"):
                workers = args.jobs
            elif _workers(size) == 1:  # (small, or no fork: no need to look at the CPUs)
                workers = 1
            else:
                # The idle CPUs are counted while the key material loads, which
                # both ways need (it took 0.1 s of sleep more before).
                started = _cpu_sample()
                analysis.check_manifest(args.capture)
                material = analysis.load_key_material(args.keylog, tuple(args.key),
                                                      getattr(args, "ca", None), run_checks=verify)
                workers = _workers(size, started)
            if workers > 1:
                run = _Parallel(args, workers, progress, material)
                try:
                    run.write(out)
                finally:
                    run.close()
            else:
                run = analysis.iter_analyze(
                    args.capture,
                    keylog=args.keylog,
                    keys=tuple(args.key),
                    ca=getattr(args, "ca", None),
                    run_checks=verify,
                    on_progress=progress,
                    material=material,
                )
                run = _Tally(run) if verify else run
                if args.json:
                    jsondoc.write(run, out, checks=verify)
                elif args.command == "decrypt":
                    text.write_decrypt(run, out)
                elif verify:
                    text.write_verify(run, out)
                else:
                    text.write_show(run, out)
        finally:
            progress.close()
    except TlsdocError as exc:
        out.flush()
        err.write(f"tlsdoc: error: {exc}\n")
        return EXIT_USAGE
    except BrokenPipeError:  # `tlsdoc show big.pcap | head`
        sys.stdout = None  # type: ignore[assignment]
        return EXIT_OK
    if not args.json:
        for warning in run.warnings:
            err.write(f"tlsdoc: warning: {warning}\n")
    if isinstance(run, (_Tally, _Parallel)) and run.failed:
        return EXIT_CHECK_FAILED
    return EXIT_OK


class _Tally:
    """Passes a run's connections through, counting failed checks (for the exit status)."""

    def __init__(self, run) -> None:
        self.run = run
        self.capture = run.capture
        self.failed = 0

    @property
    def warnings(self):
        return self.run.warnings

    def __iter__(self):
        for c in self.run:
            self.failed += sum(1 for k in c.checks if k.failed)
            yield c


# -- several processes for a big capture ----------------------------------------------

#: A capture at least this big is analysed by worker processes, one per
#: available CPU (at most MAX_WORKERS); smaller ones are not worth the start.
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
#: Every worker reads the whole capture (only the decoding, reassembly and
#: analysis are shared out), so more workers gain less.
MAX_WORKERS = 4


def _jobs(text: str) -> int:
    """``--jobs``: a whole number from 1 to 64."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be from 1 to 64, not {value}")
    return value


def _workers(size: int, started: "_CpuSample | None" = None) -> int:
    """How many worker processes to use for a capture of *size* bytes (1: none), by default.

    One per CPU that is idle now: on a shared machine, workers that have to
    wait for a CPU make the run slower than one process, not faster.  Without
    *started* (see :func:`_idle_cpus`), only the size and the system count:
    1 means "certainly one process", more means "as many as the CPUs allow".
    """
    if size < PARALLEL_MIN_BYTES or not hasattr(os, "fork"):
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    if cpus < 2:
        return 1
    if started is None:
        return min(cpus, MAX_WORKERS)
    return max(1, min(round(_idle_cpus(cpus, started)), MAX_WORKERS))


#: _cpu_sample(): (monotonic seconds, idle ticks, all ticks, this process's CPU seconds)
_CpuSample = tuple[float, int, int, float]


def _cpu_sample() -> "_CpuSample | None":
    """The machine's CPU counters now (Linux /proc/stat), or None where there are none."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return time.monotonic(), idle, sum(fields[:8]), time.process_time()
    except (OSError, ValueError, IndexError):
        return None


def _idle_cpus(cpus: int, started: "_CpuSample | None", interval: float = 0.1) -> float:
    """How many CPUs were idle since *started*, over at least *interval* seconds (Linux; else all).

    This process's own CPU time since then counts as idle: it was loading
    what the workers will use, and a CPU it used is a CPU a worker gets.
    """
    if started is None:
        return float(cpus)
    wait = interval - (time.monotonic() - started[0])
    if wait > 0:
        time.sleep(wait)
    now = _cpu_sample()
    if now is None or now[2] <= started[2]:
        return float(cpus)
    try:
        hertz = os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        hertz = 100
    idle = now[1] - started[1] + (now[3] - started[3]) * hertz
    machine = os.cpu_count() or cpus
    return min(cpus, machine * min(1.0, idle / (now[2] - started[2])))


#: How much a worker may send before it waits for the parent: a pipe's
#: capacity.  The parent reads only from the worker it is waiting for (the
#: merge goes by frame), so with Linux's default 64 KiB a worker that drew
#: ahead by some 60 connections of ``decrypt --json`` stopped until the
#: other caught up: on the benchmark file both workers were busy only 85%
#: of the time, and 97-100% with 1 MiB (the unprivileged maximum, see
#: /proc/sys/fs/pipe-max-size).  Kernel memory, not the process's.
PIPE_BYTES = 1 << 20


def _roomy_pipe() -> tuple[int, int]:
    """``os.pipe()``, made to hold PIPE_BYTES where the system allows (Linux)."""
    read_end, write_end = os.pipe()
    try:
        import fcntl  # (here: workers need fork, so POSIX, but the CLI runs anywhere)

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or a lower pipe-max-size: the default will do
        pass
    return read_end, write_end


class _Parallel:
    """``tlsdoc`` on a big capture with worker processes; the same output as one process.

    The parent checks the input and reads the key material (so unusable input
    fails as usual, before any worker starts), then forks the workers.
    Worker *k* runs :func:`tlsdoc.shares.iter_share_events` for share *k*,
    rendering each connection it analyses exactly as the one-process writers
    do, and sends its events through a pipe in batches.  The parent merges
    the events by their keys (:class:`tlsdoc.shares.ShareMerge`) and writes
    the connections in one process's order, framed as the writers frame
    them, then the warnings.  ``test_parallel`` checks that both ways give
    the same bytes.
    """

    def __init__(self, args: argparse.Namespace, workers: int, progress: "_Progress",
                 material: analysis.KeyMaterial | None = None) -> None:
        self.capture = args.capture
        self.verify = args.command == "verify"
        self.mode = "json" if args.json else args.command
        self.progress = progress
        self.failed = 0
        self.tally = {"passed": 0, "failed": 0, "not possible": 0}
        if material is None:  # (else loaded by _main, the manifest checked before)
            analysis.check_manifest(args.capture)
            material = analysis.load_key_material(args.keylog, tuple(args.key), getattr(args, "ca", None),
                                                  run_checks=self.verify)
        capture.open_capture(args.capture).close()  # not a capture: fail here
        self.warnings: list[str] = list(material.warnings)
        self.token = shares.new_token()
        self._pids: list[int] = []
        self._pipes: list = []
        # Everything made so far (modules, the key material) lives on in
        # every worker; frozen, the workers' collections leave it alone, so
        # they neither spend time walking it nor copy its pages (fork is
        # copy-on-write, and a collection writes to every object it visits).
        gc.freeze()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            for share in range(workers):
                read_end, write_end = _roomy_pipe()
                pid = os.fork()
                if pid == 0:  # the worker: never returns
                    os.close(read_end)
                    self._work(share, workers, material, write_end)
                os.close(write_end)
                self._pids.append(pid)
                self._pipes.append(os.fdopen(read_end, "rb", buffering=1 << 16))
        except BaseException:  # (no more processes, say): stop the ones started
            self.close()
            raise

    # -- the worker side ----------------------------------------------------
    def _render(self, c: analysis.ConnectionAnalysis) -> tuple[str, tuple, tuple[str, ...]]:
        statuses = tuple(str(k.status) for k in c.checks) if self.verify else ()
        failed = sum(1 for k in c.checks if k.failed) if self.verify else 0
        if self.mode == "json":
            rendered = jsondoc.connection_json(c, checks=self.verify)
        else:
            make = {"decrypt": text.decrypt_lines, "verify": text.check_lines}.get(self.mode, text.connection_lines)
            rendered = "\n".join(make(c))
        return rendered, (statuses, failed), c.warnings

    def _work(self, share: int, workers: int, material: analysis.KeyMaterial, fd: int) -> None:
        status = 1
        try:
            for other in self._pipes:  # the earlier workers' pipes are the parent's business
                other.close()
            with os.fdopen(fd, "wb", buffering=1 << 16) as pipe:

                def send(message: tuple) -> None:
                    pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)

                try:
                    progress = (lambda pos: send(("progress", pos))) if share == 0 else None
                    batch: list[tuple] = []
                    for event in shares.iter_share_events(self.capture, share, workers, self.token,
                                                          self._render, material, on_progress=progress):
                        batch.append(event)
                        if event[0] == "m":
                            send(("events", batch))
                            batch = []
                    send(("events", batch))
                    send(("end",))
                    status = 0
                except TlsdocError as exc:
                    send(("error", str(exc), True))
                except BaseException:  # a bug: the parent shows the traceback
                    send(("error", traceback.format_exc(), False))
        except BaseException:
            pass  # the parent finds the pipe closed early
        finally:
            os._exit(status)

    # -- the parent side ----------------------------------------------------
    def _items(self):
        """The rendered connections in one process's order; then the warnings are complete."""
        merge = shares.ShareMerge(self.token, len(self._pipes))
        while True:
            for released in merge.merged():
                yield self._count(released)
            k = merge.waiting_for()
            if k is None:
                break
            self._receive(k, merge)
        self.warnings.extend(merge.warnings)

    def _count(self, released: shares.Released) -> str:
        statuses, failed = released.extra
        for status in statuses:
            self.tally[status] = self.tally.get(status, 0) + 1
        self.failed += failed
        return released.text

    def _receive(self, k: int, merge: shares.ShareMerge) -> None:
        """Read worker *k*'s next batch of events (or its end) into *merge*."""
        pipe = self._pipes[k]
        while True:
            try:
                message = pickle.load(pipe)
            except EOFError:
                raise RuntimeError(f"tlsdoc worker process {k} ended without finishing") from None
            kind = message[0]
            if kind == "events":
                merge.add(k, message[1])
                return
            if kind == "progress":
                self.progress(message[1])
            elif kind == "end":
                merge.end(k)
                return
            elif message[2]:  # a TlsdocError: reported like any other
                raise CaptureError(message[1])
            else:
                raise RuntimeError(f"tlsdoc worker process {k} failed:\n{message[1]}")

    def write(self, out: IO[str]) -> None:
        """Write the whole output, as jsondoc.write / text.write_* would for one process."""
        items = self._items()
        count = 0
        if self.mode == "json":
            out.write('{"capture": ')
            out.write(json.dumps(self.capture))
            out.write(', "connections": [')
            for item in items:
                out.write("\n  " if not count else ",\n  ")
                out.write(item)
                count += 1
            out.write("\n ]," if count else "],")
            out.write(' "warnings": ')
            out.write(json.dumps(self.warnings, ensure_ascii=False))
            out.write("}\n")
            return
        for item in items:
            if count:
                out.write("\n")
            out.write(item)
            out.write("\n")
            count += 1
        if count == 0:
            out.write(f"{self.capture}: no TCP connections\n")
        elif self.verify:
            t = self.tally
            total = sum(t.values())
            out.write(f"\n{total} check{'' if total == 1 else 's'}: {t['passed']} passed, {t['failed']} failed, "
                      f"{t['not possible']} not possible\n")

    def close(self) -> None:
        """Stop and reap the workers (they are done already unless the output failed)."""
        for pipe in self._pipes:
            pipe.close()
        for pid in self._pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
        self._pids = []

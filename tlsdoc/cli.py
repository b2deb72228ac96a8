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
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import IO, Sequence

from tlsdoc import __version__, analysis
from tlsdoc.errors import TlsdocError
from tlsdoc.render import jsondoc, text

__all__ = ["main", "build_parser"]

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
    out = sys.stdout
    err = sys.stderr
    try:
        size = os.path.getsize(args.capture) if os.path.isfile(args.capture) else 0
        progress = _Progress(err, size)
        try:
            verify = args.command == "verify"
            run = analysis.iter_analyze(
                args.capture,
                keylog=args.keylog,
                keys=tuple(args.key),
                ca=getattr(args, "ca", None),
                run_checks=verify,
                on_progress=progress,
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
    if isinstance(run, _Tally) and run.failed:
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

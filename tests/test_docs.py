"""The handbook builds strictly, runs its doctests, and says only what the captures say.

One strict HTML build (``-n -W --keep-going``, ``SOURCE_DATE_EPOCH`` set)
runs per test session and is shared with ``test_browser.py`` through
:func:`sphinx_build`.  The values the TCP chapter shows are checked against
tshark, not against our own output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace as NS

import pytest

from conftest import ROOT, require_tool
from tlsdoc.sphinxext import value_text

DOCS = ROOT / "docs"
#: 2026-01-01T00:00:00Z: any fixed value makes two builds comparable.
SOURCE_DATE_EPOCH = "1767225600"
#: Strict, and without colour: a CI that sets ``FORCE_COLOR`` would otherwise
#: put escape sequences into the log that the tests below read.
STRICT = ["-n", "-W", "--keep-going", "--no-color"]
CHAPTERS = {
    "intro": "How to read this handbook",
    "tcp-handshake": "The TCP three-way handshake",
    "tls12-rsa": "TLS 1.2 with RSA key exchange",
    "tls12-ecdhe": "TLS 1.2 with ECDHE",
    "tls13": "TLS 1.3",
    "decrypting": "Decrypting the capture",
    "http": "HTTP inside the tunnel",
}
CONFIG = NS(tlsdoc_root=str(ROOT), tlsdoc_captures="captures")


@dataclass
class Build:
    out: Path
    returncode: int
    log: str
    seconds: float


_BUILDS: dict[str, Build] = {}


def run_sphinx(builder: str, out: Path, *extra: str, root: Path = ROOT,
               hash_seed: str | None = None) -> Build:
    """``sphinx-build -M``-free: one builder, its own doctree dir, strict, fixed date."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    argv = [sys.executable, "-m", "sphinx", "-b", builder, "docs", str(out),
            "-d", str(out.parent / f"{out.name}.doctrees"), "-c", ".", *STRICT, *extra]
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    return Build(out, proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start)


def sphinx_build(builder: str, tmp_path_factory) -> Build:
    """The session's build for *builder*, made on first use."""
    if builder not in _BUILDS:
        _BUILDS[builder] = run_sphinx(builder, tmp_path_factory.mktemp(f"docs-{builder}") / builder)
    return _BUILDS[builder]


@pytest.fixture(scope="session")
def html(tmp_path_factory) -> Build:
    build = sphinx_build("html", tmp_path_factory)
    assert build.returncode == 0, build.log[-4000:]
    return build


# -- the strict build -------------------------------------------------------------


def test_strict_build_has_no_warnings(html):
    assert "WARNING" not in html.log and "ERROR" not in html.log, html.log[-4000:]


def test_every_page_is_built(html):
    for page in [*CHAPTERS, "index", "404", "search", "genindex",
                 "reference/supported", "reference/cli", "reference/api", "reference/glossary"]:
        assert (html.out / f"{page}.html").is_file(), page
    for page, title in CHAPTERS.items():
        assert title in (html.out / f"{page}.html").read_text(encoding="utf-8")


class _Sources(HTMLParser):
    """Every URL a page makes the browser load (not the links a reader may follow)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href") and a.get("rel") not in ("canonical", "alternate"):
            self.urls.append(a["href"])
        if tag == "object" and a.get("data"):
            self.urls.append(a["data"])
        for style_url in re.findall(r"url\(([^)]*)\)", a.get("style") or ""):
            self.urls.append(style_url)


def test_the_site_loads_nothing_from_other_hosts(html):
    pages = list(html.out.rglob("*.html"))
    assert len(pages) >= 10
    for page in pages:
        parser = _Sources()
        parser.feed(page.read_text(encoding="utf-8"))
        foreign = [u for u in parser.urls if re.match(r"^\s*(https?:)?//", u)]
        assert not foreign, f"{page.relative_to(html.out)} loads {foreign}"
    for sheet in html.out.rglob("*.css"):
        imports = re.findall(r"@import\s+(?:url\()?['\"]?(https?:)?//", sheet.read_text(encoding="utf-8"))
        assert not imports, sheet


def test_not_found_page_uses_absolute_links(html):
    page = (html.out / "404.html").read_text(encoding="utf-8")
    assert "Page not found" in page
    assert 'href="/_static/' in page  # styled even when served for /any/deep/missing/path


def test_chapter_two_has_its_figures(html):
    page = (html.out / "tcp-handshake.html").read_text(encoding="utf-8")
    assert page.count('<p class="tlsdoc-hex">') == 4  # SYN, SYN-ACK, ACK, the first record
    assert 'src="data:image/svg+xml;base64,' in page
    assert 'class="tlsdoc-run' in page
    assert page.count("<table") >= 6


def test_the_tls12_chapters_have_their_figures(html):
    """Annotated messages, wrapped records, ladders with round trips, tables, commands, filters."""
    for page, messages in (("tls12-rsa", ("ClientHello", "ServerHello", "Certificate", "ServerHelloDone",
                                          "ClientKeyExchange", "Finished")),
                           ("tls12-ecdhe", ("ServerKeyExchange", "ClientKeyExchange"))):
        text = (html.out / f"{page}.html").read_text(encoding="utf-8")
        for message in messages:
            assert f"{message} from the " in text, (page, message)
        assert 'src="data:image/svg+xml;base64,' in text
        assert "tlsdoc-filter" in text and 'class="tlsdoc-run' in text
        assert "✓ passed" in text
    rsa = (html.out / "tls12-rsa.html").read_text(encoding="utf-8")
    assert "nonce_explicit" in rsa and "salt ‖ nonce_explicit" in rsa
    assert "cert is not valid at validation time" in rsa and "candidates exhausted" in rsa
    ecdhe = (html.out / "tls12-ecdhe.html").read_text(encoding="utf-8")
    assert "cannot decrypt ECDHE_RSA key exchange" in ecdhe


def test_the_round_trip_ladders_stand_side_by_side(html):
    """TLS 1.2 and TLS 1.3 ladders in one tlsdoc-pair container (a CSS grid of two columns)."""
    page = (html.out / "tls13.html").read_text(encoding="utf-8")
    start = page.index('<div class="tlsdoc-pair')
    pair = page[start:page.index('<p>In TLS 1.2 the client can send', start)]
    assert pair.count('src="data:image/svg+xml;base64,') == 2
    assert "TLS 1.2: tls12-ecdhe.pcapng" in pair and "TLS 1.3: tls13.pcapng" in pair
    css = (html.out / "_static" / "tlsdoc.css").read_text(encoding="utf-8")
    assert "grid-template-columns: 1fr 1fr" in css


# -- nothing typed by hand -----------------------------------------------------------

_FENCE = re.compile(r"^(```+)\{doctest\}.*?^\1\s*$", re.S | re.M)
_ROLE = re.compile(r"\{(tls|rfc)\}`[^`]*`")


def test_chapters_type_no_numbers_or_hex():
    """Outside doctests and {tls}/{rfc} roles, no number of 3+ digits and no hex run."""
    for md in DOCS.rglob("*.md"):
        text = _ROLE.sub("", _FENCE.sub("", md.read_text(encoding="utf-8")))
        numbers = re.findall(r"(?<![\w.-])\d{3,}(?![\w])", text)
        hexes = re.findall(r"\b(?:[0-9a-f]{2}[ :]){3,}[0-9a-f]{2}\b|0x[0-9a-fA-F]+|\b[0-9a-f]{8,}\b", text)
        assert not numbers and not hexes, f"{md.relative_to(ROOT)}: {numbers + hexes}"


# -- the values the TCP chapter shows, against tshark ---------------------------------------

# (reference as the chapter writes it, tshark field of the frame, which frame)
TSHARK_CHECKS = [
    ("tls13:tcp.handshake.syn.seq", "tcp.seq_raw", "syn"),
    ("tls13:tcp.handshake.syn_ack.seq", "tcp.seq_raw", "syn_ack"),
    ("tls13:tcp.handshake.syn_ack.ack", "tcp.ack_raw", "syn_ack"),
    ("tls13:tcp.handshake.ack.ack", "tcp.ack_raw", "ack"),
    ("tls13:tcp.handshake.ack.seq", "tcp.seq_raw", "ack"),
    ("tls13:tcp.handshake.ack.relative_seq", "tcp.seq", "ack"),
    ("tls13:tcp.handshake.syn.mss", "tcp.options.mss_val", "syn"),
    ("tls13:tcp.handshake.syn_ack.mss", "tcp.options.mss_val", "syn_ack"),
    ("tls13:tcp.handshake.syn.window_scale", "tcp.options.wscale.shift", "syn"),
    ("tls13:tcp.handshake.syn_ack.window_scale", "tcp.options.wscale.shift", "syn_ack"),
    ("tls13:tcp.handshake.syn.window_scale|pow2", "tcp.window_size_scalefactor", "ack"),
    ("tls13:tcp.handshake.syn.window", "tcp.window_size_value", "syn"),
    ("tls13:tcp.handshake.ack.window", "tcp.window_size_value", "ack"),
    ("tls13:tcp.client.1", "tcp.srcport", "syn"),
    ("tls13:tcp.server.1", "tcp.dstport", "syn"),
    ("http:tcp.server.1", "tcp.dstport", "syn"),
]


def _tshark(capture: str, fields: list[str]) -> list[list[str]]:
    argv = [require_tool("tshark"), "-n", "-r", str(ROOT / "captures" / capture), "-T", "fields",
            "-E", "separator=\t", *(a for f in fields for a in ("-e", f))]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_tcp_chapter_values_agree_with_tshark():
    fields = ["frame.number", "tcp.flags.syn", "tcp.flags.ack", "tcp.len"]
    extra = sorted({f for _ref, f, _which in TSHARK_CHECKS})
    rows = {}
    for capture in ("tls13.pcapng", "http.pcapng"):
        table = _tshark(capture, fields + extra + ["frame.time_relative", "tcp.analysis.initial_rtt"])
        named = [dict(zip(fields + extra + ["time", "irtt"], row)) for row in table]
        syn = next(r for r in named if r["tcp.flags.syn"] == "1" and r["tcp.flags.ack"] == "0")
        syn_ack = next(r for r in named if r["tcp.flags.syn"] == "1" and r["tcp.flags.ack"] == "1")
        ack = next(r for r in named if int(r["frame.number"]) > int(syn_ack["frame.number"])
                   and r["tcp.flags.ack"] == "1" and r["tcp.len"] == "0")
        rows[capture.split(".")[0]] = {"syn": syn, "syn_ack": syn_ack, "ack": ack}
    for reference, field, which in TSHARK_CHECKS:
        expected = rows[reference.split(":")[0]][which][field]
        assert value_text(CONFIG, reference)[0] == expected, (reference, field)
    tls13 = rows["tls13"]
    for which in ("syn", "syn_ack", "ack"):
        assert value_text(CONFIG, f"tls13:tcp.handshake.{which}.frame")[0] == tls13[which]["frame.number"]
    # Times: tshark prints seconds with 9 decimals; the chapter shows milliseconds with 3.
    irtt_ms = float(tls13["ack"]["irtt"]) * 1000
    assert value_text(CONFIG, "tls13:tcp.handshake.rtt_ns|ms")[0] == f"{irtt_ms:.3f} ms"
    syn_ack_ms = float(tls13["syn_ack"]["time"]) * 1000
    assert value_text(CONFIG, "tls13:tcp.handshake.syn_to_syn_ack_ns|ms")[0] == f"{syn_ack_ms:.3f} ms"


# -- doctests ------------------------------------------------------------------------------


def _doctest_summary(output_txt: Path) -> tuple[int, int]:
    """(tests run, failures) from the builder's "Doctest summary"."""
    text = output_txt.read_text(encoding="utf-8").split("Doctest summary", 1)[1]
    tests = int(re.search(r"^\s*(\d+) tests?\b", text, re.M)[1])
    failures = int(re.search(r"(\d+) failures? in tests", text)[1])
    return tests, failures


def test_chapter_doctests_pass(tmp_path):
    build = run_sphinx("doctest", tmp_path / "doctest")
    assert build.returncode == 0, build.log[-4000:]
    tests, failures = _doctest_summary(tmp_path / "doctest" / "output.txt")
    assert failures == 0
    assert tests >= 10, f"only {tests} doctests ran"


def test_a_wrong_expected_value_fails_the_doctest_build(tmp_path):
    """The same builder, on a one-page project whose example is wrong, must fail."""
    project = tmp_path / "wrong"
    (project / "docs").mkdir(parents=True)
    (project / "conf.py").write_text('extensions = ["myst_parser", "sphinx.ext.doctest"]\n')
    (project / "docs" / "index.md").write_text(textwrap.dedent("""\
        # Wrong

        ```{doctest}
        >>> from tlsdoc.analysis import analyze
        >>> analyze(%r).connections[0].tcp.handshake.syn.frame
        2

        ```
        """) % str(ROOT / "captures" / "tls13.pcapng"))
    build = run_sphinx("doctest", tmp_path / "out", root=project)
    assert build.returncode != 0
    tests, failures = _doctest_summary(tmp_path / "out" / "output.txt")
    assert (tests, failures) == (2, 1)
    assert "Expected:\n    2\nGot:\n    1" in (tmp_path / "out" / "output.txt").read_text()


# -- reproducible, incremental ------------------------------------------------------------------


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


#: What a build reads: the configuration, the chapters, the extension and the engine, the captures.
BUILD_INPUTS = ("conf.py", "docs", "tlsdoc", "captures")


def snapshot(tmp_path: Path) -> Path:
    """A private copy of everything a build reads, so that edits made meanwhile in the
    working tree (other people at work, another test) cannot change what is compared.

    The copy's ``tlsdoc`` package is the one its builds import: ``conf.py``
    puts its own directory first on ``sys.path``.
    """
    root = tmp_path / "tree"
    root.mkdir()
    for name in BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "_build"))
        else:
            shutil.copy2(source, root / name)
    return root


@pytest.mark.slow
def test_two_clean_builds_are_byte_identical(tmp_path):
    """Two clean builds of one snapshot, with different hash seeds: the same bytes.

    A snapshot rather than the working tree, so that an edit made between
    the builds is not mistaken for nondeterminism; different
    ``PYTHONHASHSEED`` values, so that set or dict ordering that depends on
    string hashing would show up.
    """
    root = snapshot(tmp_path)
    builds = [run_sphinx("html", tmp_path / f"html{seed}", root=root, hash_seed=seed) for seed in ("1", "2")]
    for build in builds:
        assert build.returncode == 0, build.log[-4000:]
    first, second = _tree(builds[0].out), _tree(builds[1].out)
    assert first.keys() == second.keys()
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, differ


@pytest.mark.slow
def test_editing_one_chapter_rereads_only_that_chapter(tmp_path):
    """On a snapshot of the tree, so that nobody else's edit can make a page out of date."""
    root = snapshot(tmp_path)
    cold = run_sphinx("html", tmp_path / "out", root=root)
    assert cold.returncode == 0, cold.log[-4000:]
    with open(root / "docs" / "tcp-handshake.md", "a", encoding="utf-8") as chapter:
        chapter.write("\nOne more sentence.\n")
    warm = run_sphinx("html", tmp_path / "out", root=root)
    assert warm.returncode == 0, warm.log[-4000:]
    read = re.findall(r"reading sources\.\.\. \[\s*\d+%\] (\S+)", warm.log)
    assert read == ["tcp-handshake"], warm.log[-2000:]
    print(f"\ncold HTML build {cold.seconds:.1f} s, rebuild after editing one chapter "
          f"{warm.seconds:.1f} s ({100 * warm.seconds / cold.seconds:.0f} %)")

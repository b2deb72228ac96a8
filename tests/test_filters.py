"""Every Wireshark display filter a chapter shows selects exactly the frames it says.

The chapters' *In Wireshark* sections give their filters through the
``tls-filter`` directive, with the frames each must select as references
into the analysis.  This test finds every such block in ``docs/``, runs
the filter through tshark on the same bundled capture (with the key log,
or the server's RSA key, when the block says it needs one, and the other
preferences its ``:prefs:`` names) and compares the frame numbers.  tshark is the oracle: it is Wireshark's own
dissector, so a reader following the chapter in Wireshark sees the same.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, require_tool
from tlsdoc.sphinxext import _source, filter_frames, parse_reference, prefs_option

DOCS = ROOT / "docs"
CONFIG = type("Config", (), {"tlsdoc_root": str(ROOT), "tlsdoc_captures": "captures",
                             "tlsdoc_ca": "pki/root-ca.pem"})()

# Blocks may be indented (inside a list item); options are the block's ":name: value" lines.
_BLOCK = re.compile(r"^[ \t]*(?P<fence>`{3,})\{tls-filter\}[ \t]+(?P<source>\S+)[ \t]*\n(?P<body>.*?)"
                    r"^[ \t]*(?P=fence)[ \t]*$", re.M | re.S)
_OPTION = re.compile(r"^[ \t]*:(?P<name>[\w-]+):[ \t]*(?P<value>.*)$", re.M)


@dataclass(frozen=True)
class Filter:
    where: str
    source: str
    options: dict

    def __str__(self) -> str:
        return f"{self.where}: {self.options.get('filter')}"


def find_filters(docs: Path = DOCS) -> list[Filter]:
    found = []
    for md in sorted(docs.rglob("*.md")):
        text = md.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            options = {m["name"]: m["value"].strip() for m in _OPTION.finditer(match["body"])}
            found.append(Filter(f"{md.relative_to(ROOT)}:{line}", match["source"], options))
    return found


FILTERS = find_filters()


def test_the_tls_chapters_have_filters():
    where = {f.where.split(":")[0] for f in FILTERS}
    assert {"docs/tls12-rsa.md", "docs/tls12-ecdhe.md"} <= where, where


def test_the_block_finder_reads_options():
    sample = "x\n   ```{tls-filter} tls12-rsa\n   :filter: tls.handshake.type == 1\n   :frames: a b\n   :keylog: yes\n   ```\n"
    (tmp,) = [m for m in _BLOCK.finditer(sample)]
    options = {m["name"]: m["value"] for m in _OPTION.finditer(tmp["body"])}
    assert options == {"filter": "tls.handshake.type == 1", "frames": "a b", "keylog": "yes"}


def _tshark_frames(block: Filter) -> tuple[int, ...]:
    source = _source(CONFIG, parse_reference(block.source + ":").source)
    argv = [require_tool("tshark"), "-n", "-r", str(source.capture),
            "-o", "tcp.reassemble_out_of_order:TRUE"]
    if block.options.get("keylog", "no") != "no":
        argv += ["-o", f"tls.keylog_file:{source.keylog}"]
    if block.options.get("key", "no") != "no":
        argv += ["-o", f'uat:rsa_keys:"{source.server_key}",""']
    for name, value in prefs_option(block.options["prefs"]) if "prefs" in block.options else ():
        argv += ["-o", f"{name}:{value}"]
    argv += ["-Y", block.options["filter"], "-T", "fields", "-e", "frame.number"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{block}: tshark failed: {result.stderr.strip()}"
    return tuple(sorted(int(n) for n in result.stdout.split()))


@pytest.mark.parametrize("block", FILTERS, ids=[f.where for f in FILTERS])
def test_filter_selects_the_frames_the_chapter_says(block):
    assert "filter" in block.options and "frames" in block.options, block
    expected = filter_frames(CONFIG, block.options["frames"])
    assert expected, f"{block}: names no frames"
    assert _tshark_frames(block) == expected, block


def test_the_response_filters_need_their_preference():
    """``:prefs:`` is passed to tshark: without http.desegment_body:FALSE the response is not found."""
    with_prefs = [f for f in FILTERS if "http.desegment_body:FALSE" in f.options.get("prefs", "")]
    assert {f.where.split(":")[0] for f in with_prefs} >= {"docs/decrypting.md", "docs/http.md"}
    for block in with_prefs:
        options = {k: v for k, v in block.options.items() if k != "prefs"}
        without = Filter(block.where, block.source, options)
        assert _tshark_frames(without) != filter_frames(CONFIG, block.options["frames"]), block


def test_a_wrong_filter_is_caught():
    """The check has teeth: a filter for ServerHello does not select the ClientHello's frame."""
    block = Filter("here", "tls12-rsa", {"filter": "tls.handshake.type == 2",
                                          "frames": "tls12-rsa:tls.client_hello.span.frames"})
    assert _tshark_frames(block) != filter_frames(CONFIG, block.options["frames"])

"""The PDF handbook: built with xelatex, then read back as text with pdftotext.

Every chapter title must be there, and every value the chapters compute
from a capture (each ``{tls}`` reference in docs/) must appear in the text,
as must the text of the ladder figures (converted from SVG by rsvg-convert).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, require_tool
from test_docs import CHAPTERS, CONFIG, DOCS, SOURCE_DATE_EPOCH
from tlsdoc.sphinxext import parse_reference, value_text

pytestmark = pytest.mark.slow

_ROLE = re.compile(r"\{tls\}`([^`]*)`")


@pytest.fixture(scope="module")
def latex_dir(tmp_path_factory):
    """The LaTeX build directory of one PDF build (the .tex, the .log, the PDF)."""
    for tool in ("xelatex", "latexmk", "rsvg-convert", "pdftotext"):
        require_tool(tool)
    out = tmp_path_factory.mktemp("pdf")
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-M", "latexpdf", "docs", str(out), "-c", ".",
         "-n", "-W", "--keep-going"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return out / "latex"


@pytest.fixture(scope="module")
def pdf_text(latex_dir) -> str:
    pdf = latex_dir / "tlsdoc.pdf"
    assert pdf.is_file()
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert len(text) > 10_000
    return text


def _squeeze(text: str) -> str:
    # Line breaks and LaTeX's hyphenation may split a value; compare without them.
    return re.sub(r"-\n|\s+", "", text)


def test_every_chapter_title_is_in_the_pdf(pdf_text):
    for title in CHAPTERS.values():
        assert title in pdf_text, title


def test_every_computed_value_is_in_the_pdf(pdf_text):
    squeezed = _squeeze(pdf_text)
    references = sorted({r for md in DOCS.rglob("*.md") for r in _ROLE.findall(md.read_text())})
    sources = {parse_reference(r).source for r in references}
    assert {"tls13", "http", "manifest"} <= sources
    missing = [(r, v) for r in references
               if _squeeze(v := value_text(CONFIG, r)[0]) not in squeezed]
    assert not missing, missing


def test_annotated_bytes_and_ladders_are_in_the_pdf(pdf_text):
    squeezed = _squeeze(pdf_text)
    syn_seq = int(value_text(CONFIG, "tls13:tcp.handshake.syn.seq")[0])
    assert _squeeze(" ".join(f"{b:02x}" for b in syn_seq.to_bytes(4, "big"))) in squeezed
    assert "1 round trip" in pdf_text  # text of a ladder figure, converted from SVG
    assert "ClientHello" in pdf_text


#: Narrow table columns leave a few words a little too wide; a long hex value
#: in a table (a verify_data of 64 digits) ran some 76 pt into the margin.
OVERFULL_LIMIT_PT = 20


def test_nothing_runs_far_into_the_margin(latex_dir):
    log = (latex_dir / "tlsdoc.log").read_text(encoding="utf-8", errors="replace")
    widths = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(widths, default=0.0) < OVERFULL_LIMIT_PT, sorted(widths)[-5:]


def test_figures_stay_where_the_chapter_puts_them(latex_dir):
    tex = (latex_dir / "tlsdoc.tex").read_text(encoding="utf-8")
    figures = re.findall(r"\\begin\{figure\}\[([^\]]*)\]", tex)
    assert figures and set(figures) == {"H"}, set(figures)

"""Sphinx configuration for the tlsdoc handbook (sources in docs/).

Build with ``sphinx-build -M html docs _build -c . -n -W --keep-going`` (the
Makefile does); the PDF with ``-M latexpdf``; the doctests with ``-b doctest``.

Everything a chapter shows is computed by :mod:`tlsdoc.sphinxext` from the
captures in ``captures/``; this file only wires the pieces together.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import tlsdoc  # noqa: E402  (after the path tweak, so an uninstalled checkout works too)

project = "tlsdoc"
author = "The tlsdoc authors"
copyright = "2026, The tlsdoc authors"  # fixed, not "this year": builds are reproducible
version = release = tlsdoc.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "sphinx_copybutton",
    "sphinxcontrib.rsvgconverter",  # SVG → PDF for the LaTeX builder (needs rsvg-convert)
    "notfound.extension",
    "tlsdoc.sphinxext",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_inv"]
nitpicky = True  # the Makefile passes -n as well; this makes every build strict

# -- MyST -------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 0  # we link to namespaced labels such as (tcp/syn)=, never to slugs

# -- Cross references ---------------------------------------------------------
# The build must work offline (CI and this machine reach package registries
# only), so intersphinx never downloads an inventory.  We ship two, taken
# from Debian packages of the projects' own documentation builds:
#   docs/_inv/python-3.11.inv          from python3.11-doc 3.11.2-6+deb12u9
#                                      (/usr/share/doc/python3.11/html/objects.inv)
#   docs/_inv/cryptography-38.0.4.inv  from python-cryptography-doc 38.0.4-3+deb12u1
#                                      (/usr/share/doc/python-cryptography-doc/html/objects.inv)
# Links point at exactly the documentation version each inventory describes,
# so every link resolves to a page that has that anchor.  The classes we link
# to in cryptography (HKDFExpand, AESGCM, hmac.HMAC ...) have kept their
# documented paths since 38; refresh an inventory by installing the newer
# Debian package and copying its objects.inv over.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3.11/", str(ROOT / "docs/_inv/python-3.11.inv")),
    "cryptography": (
        "https://cryptography.io/en/38.0.4/",
        str(ROOT / "docs/_inv/cryptography-38.0.4.inv"),
    ),
}
intersphinx_timeout = 1  # never wait on the network; the inventories are local files

# -- API reference --------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Names no inventory can resolve offline, or that are private on purpose:
# classes of Sphinx, docutils, h11 and dpkt (Debian ships no documentation
# inventory for them, and we download none) and private helpers
# (``tlsdoc.handshake._Piece``).  Anything else unresolved fails the build
# (-n -W).  Bare names (``CaptureError``, the ``Warn`` alias) are resolved
# by tlsdoc.sphinxext.
nitpick_ignore_regex = [
    ("py:.*", r"(sphinx|docutils|h11|dpkt)\..*"),
    ("py:.*", r"(.*\.)?_[A-Za-z]\w*"),
]

# -- Doctests -----------------------------------------------------------------------
# The ```{doctest}``` blocks in the chapters run as if typed at the repository
# root, the way a reader would type them, whatever directory sphinx-build
# was started from.  Docstring examples are left to pytest --doctest-modules.
doctest_global_setup = f"""
import os
os.chdir({str(ROOT)!r})
"""
doctest_test_doctest_blocks = ""

# -- HTML ---------------------------------------------------------------------------
html_theme = "furo"
html_title = "tlsdoc — the TLS handshake, byte by byte"
html_static_path = ["docs/_static"]
html_css_files = ["tlsdoc.css"]
html_favicon = "docs/_static/favicon.svg"
html_theme_options = {"sidebar_hide_name": False, "navigation_with_keys": True}
html_copy_source = False  # the chapters' source is in the repository; keep the site lean
html_show_sourcelink = False

# The 404 page (docs/404.md) is served for any missing path, so its links must
# be absolute: "/" locally (`make serve`), the project's path on Read the Docs.
notfound_urls_prefix = urlparse(os.environ.get("READTHEDOCS_CANONICAL_URL", "/")).path

# -- PDF (LaTeX) ----------------------------------------------------------------
latex_engine = "xelatex"  # box-drawing characters and → in text output need Unicode fonts
latex_documents = [
    ("index", "tlsdoc.tex", "tlsdoc: the TLS handshake, byte by byte", author, "manual"),
]
latex_elements = {
    "sphinxsetup": "verbatimforcewraps",  # long hex lines wrap instead of running off the page
    "papersize": "a4paper",
    # Figures (the ladders) stay where the chapter puts them, next to the text
    # that talks about them, instead of floating to the next page top
    # ("H" is the float package's "here, definitely"; sphinx.sty loads float).
    "figure_align": "H",
    # Sphinx's xelatex defaults (GNU FreeFont), except the monospace font:
    # FreeMono lacks the ✓ ✗ marks of `tlsdoc verify`; DejaVu Sans Mono
    # (Debian fonts-dejavu-core) has them, the box drawing and the arrows.
    "fontpkg": r"""
\setmainfont{FreeSerif}[Extension=.otf, UprightFont=*, ItalicFont=*Italic,
  BoldFont=*Bold, BoldItalicFont=*BoldItalic]
\setsansfont{FreeSans}[Extension=.otf, UprightFont=*, ItalicFont=*Oblique,
  BoldFont=*Bold, BoldItalicFont=*BoldOblique]
\setmonofont{DejaVu Sans Mono}[Scale=0.9]
""",
}
latex_show_urls = "footnote"
# Long identifiers (cipher suite names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
# do not fit table columns: let LaTeX break a line after any underscore, in
# text and in inline literals alike.
latex_elements["preamble"] = r"""
\makeatletter
\let\tlsdoc@underscore\textunderscore
\DeclareRobustCommand*{\_}{\tlsdoc@underscore\allowbreak}
\makeatother
"""

"""Sphinx configuration for the tlsdoc handbook (sources in docs/).

Build with ``sphinx-build -M html docs _build -c .`` — the Makefile does.
"""

import os
import sys

sys.path.insert(0, os.path.abspath("."))

project = "tlsdoc"
author = "The tlsdoc authors"
copyright = "2026, The tlsdoc authors"

extensions = [
    "myst_parser",
    "sphinx_copybutton",
]

source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "tlsdoc — the TLS handshake, byte by byte"

"""Renderers: analysis values in, neutral strings and values out.

``text`` and ``jsondoc`` serve the command line; ``hexdump``, ``ladder`` and
``tables`` serve the Sphinx extension.  Renderers never read files and never
import sphinx or docutils.
"""

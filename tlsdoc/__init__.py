"""tlsdoc: the TLS handshake, byte by byte — the analyser behind the handbook.

The public entry point is :func:`tlsdoc.analysis.analyze`; the stages it
wires together (``capture`` → ``tcp`` → ``records`` → ``handshake`` → …)
are modules of this package and can be called on their own.
"""

__version__ = "0.1.0"

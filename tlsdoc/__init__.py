"""tlsdoc: the TLS handshake, byte by byte — the analyser behind the handbook.

The public entry points are :func:`tlsdoc.analysis.analyze` (a whole
capture, cached) and :func:`tlsdoc.analysis.iter_analyze` (streaming);
they are re-exported here with the values they return and the error
hierarchy.  The stages they wire together (``capture`` → ``tcp`` →
``records`` → ``handshake`` → ``session`` (keys and decryption) →
``checks``, ``http``) are modules of this package and can be called on
their own.

Imports only re-exports; nothing else lives here.
"""

__version__ = "0.1.0"

from tlsdoc.errors import (  # noqa: E402
    CaptureError,
    DecodeError,
    DecryptionError,
    KeyMaterialError,
    TlsdocError,
    TruncatedError,
    VerificationError,
)
from tlsdoc.analysis import Analysis, ConnectionAnalysis, analyze, iter_analyze  # noqa: E402

__all__ = [
    "__version__",
    "analyze",
    "iter_analyze",
    "Analysis",
    "ConnectionAnalysis",
    "TlsdocError",
    "CaptureError",
    "DecodeError",
    "TruncatedError",
    "KeyMaterialError",
    "DecryptionError",
    "VerificationError",
]

"""The one error hierarchy of tlsdoc.

Consumes nothing, produces exception types.  Every error says what was
expected, where (capture, frame, direction, stream offset, record, field)
and what was found, in one line.  Nothing here subclasses a stdlib family
(ValueError, SyntaxError ...) so a caller never catches ours by accident.

Must never import any other tlsdoc module.
"""

from __future__ import annotations

__all__ = [
    "TlsdocError",
    "CaptureError",
    "DecodeError",
    "TruncatedError",
    "KeyMaterialError",
    "DecryptionError",
    "VerificationError",
]


class TlsdocError(Exception):
    """Base of every error tlsdoc raises on purpose; abstract.

    Attributes are all optional and only those that are known are shown.

    Args:
        message: what went wrong, in words.
        capture: file name of the capture.
        frame: 1-based frame number (as Wireshark counts).
        direction: e.g. ``"client→server"``.
        offset: byte offset in the stream (or file) where the problem is.
        record: index of the TLS record in its direction's stream.
        field: dotted name of the field being decoded.
        expected: what the decoder expected.
        found: what it found.
    """

    def __new__(cls, *args, **kwargs):
        if cls is TlsdocError:
            raise TypeError("TlsdocError is abstract; raise a subclass")
        return super().__new__(cls, *args, **kwargs)

    def __init__(
        self,
        message: str,
        *,
        capture: str | None = None,
        frame: int | None = None,
        direction: str | None = None,
        offset: int | None = None,
        record: int | None = None,
        field: str | None = None,
        expected: object = None,
        found: object = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.capture = capture
        self.frame = frame
        self.direction = direction
        self.offset = offset
        self.record = record
        self.field = field
        self.expected = expected
        self.found = found

    def location(self) -> str:
        """The 'where' part of the message, e.g. ``x.pcap frame 6, server→client +0x01f4``."""
        parts: list[str] = []
        head = " ".join(
            p
            for p in (
                self.capture,
                f"frame {self.frame}" if self.frame is not None else None,
            )
            if p
        )
        if head:
            parts.append(head)
        where = " ".join(
            p
            for p in (
                self.direction,
                f"+0x{self.offset:04x}" if self.offset is not None else None,
            )
            if p
        )
        if where:
            parts.append(where)
        inner = ", ".join(
            p
            for p in (
                f"record {self.record}" if self.record is not None else None,
                self.field,
            )
            if p
        )
        text = ", ".join(parts)
        if inner:
            text = f"{text} ({inner})" if text else f"({inner})"
        return text

    def __str__(self) -> str:
        text = self.message
        if self.expected is not None or self.found is not None:
            text += f": expected {self.expected}, found {self.found}"
        where = self.location()
        return f"{where}: {text}" if where else text

    def with_context(self, **context) -> "TlsdocError":
        """Fill in location fields that are still unknown; returns self."""
        for key, value in context.items():
            if getattr(self, key, None) is None:
                setattr(self, key, value)
        return self


class CaptureError(TlsdocError):
    """The file is not a usable capture (missing, not pcap/pcapng, bad link type, manifest mismatch)."""


class DecodeError(TlsdocError):
    """Bytes that do not follow the protocol's structure (lengths that lie, bad values)."""


class TruncatedError(DecodeError):
    """The bytes end before a structure that they announce is complete."""


class KeyMaterialError(TlsdocError):
    """A key is missing or does not fit (no key log line, wrong RSA key, malformed key log)."""


class DecryptionError(TlsdocError):
    """A record failed to decrypt: bad AEAD tag or MAC, bad padding."""


class VerificationError(TlsdocError):
    """A check (Finished, CertificateVerify, chain) could not be carried out."""

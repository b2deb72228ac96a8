"""RFC 5869 Appendix A, test cases 1-3 (HKDF with SHA-256).

Source: RFC 5869, "HMAC-based Extract-and-Expand Key Derivation Function
(HKDF)", Appendix A.1-A.3, https://www.rfc-editor.org/rfc/rfc5869#appendix-A.
Transcribed by hand; test case 2's inputs are the byte ranges 0x00-0x4f,
0x60-0xaf and 0xb0-0xff, written here as ranges.
"""

from __future__ import annotations

from typing import NamedTuple


class HkdfCase(NamedTuple):
    name: str
    ikm: bytes
    salt: bytes
    info: bytes
    length: int
    prk: bytes
    okm: bytes


CASES = (
    HkdfCase(
        name="A.1 basic",
        ikm=bytes([0x0B]) * 22,
        salt=bytes(range(0x00, 0x0D)),
        info=bytes(range(0xF0, 0xFA)),
        length=42,
        prk=bytes.fromhex(
            "077709362c2e32df0ddc3f0dc47bba63"
            "90b6c73bb50f9c3122ec844ad7c2b3e5"),
        okm=bytes.fromhex(
            "3cb25f25faacd57a90434f64d0362f2a"
            "2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865"),
    ),
    HkdfCase(
        name="A.2 longer inputs and outputs",
        ikm=bytes(range(0x00, 0x50)),
        salt=bytes(range(0x60, 0xB0)),
        info=bytes(range(0xB0, 0x100)),
        length=82,
        prk=bytes.fromhex(
            "06a6b88c5853361a06104c9ceb35b45c"
            "ef760014904671014a193f40c15fc244"),
        okm=bytes.fromhex(
            "b11e398dc80327a1c8e7f78c596a4934"
            "4f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09"
            "da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f"
            "1d87"),
    ),
    HkdfCase(
        name="A.3 zero-length salt and info",
        ikm=bytes([0x0B]) * 22,
        salt=b"",
        info=b"",
        length=42,
        prk=bytes.fromhex(
            "19ef24a32c717b167f33a91d6f648bdf"
            "96596776afdb6377ac434c1c293ccb04"),
        okm=bytes.fromhex(
            "8da4e775a563c18f715f802a063c5a31"
            "b8a11f5c5ee1879ec3454e5f3c738d2d"
            "9d201395faa4b61a96c8"),
    ),
)

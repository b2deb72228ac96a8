"""TLS 1.2 PRF known answers (P_SHA256 and P_SHA384).

Source: the "TLS 1.2 test vectors" posted to the IETF TLS working group
mailing list in 2010 (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html),
widely reused by TLS implementations' test suites.  Transcribed by hand;
PRF(secret, "test label", seed) with the hash named.
"""

from __future__ import annotations

LABEL = b"test label"

SHA256_SECRET = bytes.fromhex("9bbe436ba940f017b17652849a71db35")
SHA256_SEED = bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c")
SHA256_OUTPUT = bytes.fromhex(
    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
    "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
    "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
    "87347b66")  # 100 bytes

SHA384_SECRET = bytes.fromhex("b80b733d6ceefcdc71566ea48e5567df")
SHA384_SEED = bytes.fromhex("cd665cf6a8447dd6ff8b27555edb7465")
SHA384_OUTPUT = bytes.fromhex(
    "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
    "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
    "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
    "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
    "91c8f3a26854308d5eaa3be85e0990703d73e56f")  # 148 bytes

"""IANA TLS registries as ``enum.IntEnum``, plus GREASE and value naming.

Consumes nothing; produces enum types whose member names are the
registries' own spellings (``CipherSuite.TLS_AES_128_GCM_SHA256``,
``ExtensionType.key_share``), so ``.name`` matches the RFCs, Wireshark and
the JSON contract with no mapping table.  Code points a registry does not
name stay plain ``int``: :func:`lookup` returns the member or the int, and
:func:`describe` prints ``"GREASE (0x0a0a)"`` or ``"unassigned (0x1234)"``.

Sources.  The :class:`CipherSuite` body was generated once (not at import
time) from Wireshark 4.0's value table (``tshark -G values``, field
``tls.handshake.ciphersuite``, whose names are the IANA names) and filtered
to the IANA "TLS Cipher Suites" registry: dropped are the GREASE values
(RFC 8701), 0x001C-1D (reserved, SSLv3 Fortezza), 0x0060-66 (reserved),
0x0080-83 (old GOST drafts, unassigned), 0xCC13-15 (pre-RFC 7905 ChaCha20
drafts), 0xC0FF (EC-JPAKE draft), 0xE0xx-0xE4xx (GM/T SM and Salsa20
drafts) and 0xFExx-0xFFxx (reserved / private use); added are 0x1306-07
(AEGIS, IANA-assigned, newer than Wireshark 4.0).  ``tests/test_registry.py``
checks every member against tshark where it is installed.  The other enums
are transcribed from the RFCs cited on each class and the IANA registries.

Must never import any other tlsdoc module (it sits at the root of the
import chain with :mod:`tlsdoc.errors` and :mod:`tlsdoc.wire`).
"""

from __future__ import annotations

import enum

__all__ = [
    "ContentType",
    "HandshakeType",
    "ExtensionType",
    "CipherSuite",
    "NamedGroup",
    "SignatureScheme",
    "HashAlgorithm",
    "SignatureAlgorithm",
    "AlertDescription",
    "AlertLevel",
    "ProtocolVersion",
    "ECPointFormat",
    "ECCurveType",
    "PskKeyExchangeMode",
    "CompressionMethod",
    "NameType",
    "CertificateStatusType",
    "ClientCertificateType",
    "KeyUpdateRequest",
    "GREASE_VALUES",
    "is_grease",
    "lookup",
    "lookup_all",
    "members",
    "describe",
    "key_exchange",
]


class ContentType(enum.IntEnum):
    """TLS ContentType, RFC 8446 §5.1 (RFC 5246 §6.2.1); heartbeat RFC 6520, tls12_cid RFC 9146."""

    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23
    heartbeat = 24
    tls12_cid = 25
    ACK = 26


class HandshakeType(enum.IntEnum):
    """TLS HandshakeType, RFC 8446 §4 and B.3 plus the TLS 1.0-1.2 types (RFC 5246 §7.4).

    ``hello_retry_request`` (6) is reserved: TLS 1.3 sends a HelloRetryRequest
    as a ``server_hello`` with a special random (RFC 8446 §4.1.3).
    """

    hello_request = 0
    client_hello = 1
    server_hello = 2
    hello_verify_request = 3  # DTLS, RFC 6347
    new_session_ticket = 4  # RFC 5077, RFC 8446
    end_of_early_data = 5
    hello_retry_request = 6  # reserved (draft TLS 1.3)
    encrypted_extensions = 8
    request_connection_id = 9  # RFC 9147
    new_connection_id = 10  # RFC 9147
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    client_certificate_request = 17  # RFC 9261
    finished = 20
    certificate_url = 21  # RFC 6066
    certificate_status = 22  # RFC 6066
    supplemental_data = 23  # RFC 4680
    key_update = 24
    compressed_certificate = 25  # RFC 8879
    ekt_key = 26  # RFC 8870
    message_hash = 254


class ExtensionType(enum.IntEnum):
    """TLS ExtensionType values, IANA registry (RFC 8446 §4.2 and the RFCs noted).

    40 and 46 are reserved (draft TLS 1.3 key_share / early_data_info);
    non-IANA code points seen in the wild (NPN 13172, ALPS 17513,
    channel_id 30032) stay ints.
    """

    server_name = 0  # RFC 6066
    max_fragment_length = 1  # RFC 6066
    client_certificate_url = 2
    trusted_ca_keys = 3
    truncated_hmac = 4
    status_request = 5  # RFC 6066
    user_mapping = 6  # RFC 4681
    client_authz = 7  # RFC 5878
    server_authz = 8
    cert_type = 9  # RFC 6091
    supported_groups = 10  # RFC 8422, RFC 7919 (was elliptic_curves)
    ec_point_formats = 11  # RFC 8422
    srp = 12  # RFC 5054
    signature_algorithms = 13  # RFC 8446
    use_srtp = 14  # RFC 5764
    heartbeat = 15  # RFC 6520
    application_layer_protocol_negotiation = 16  # RFC 7301
    status_request_v2 = 17  # RFC 6961
    signed_certificate_timestamp = 18  # RFC 6962
    client_certificate_type = 19  # RFC 7250
    server_certificate_type = 20  # RFC 7250
    padding = 21  # RFC 7685
    encrypt_then_mac = 22  # RFC 7366
    extended_master_secret = 23  # RFC 7627
    token_binding = 24  # RFC 8472
    cached_info = 25  # RFC 7924
    tls_lts = 26
    compress_certificate = 27  # RFC 8879
    record_size_limit = 28  # RFC 8449
    pwd_protect = 29  # RFC 8492
    pwd_clear = 30
    password_salt = 31
    ticket_pinning = 32  # RFC 8672
    tls_cert_with_extern_psk = 33  # RFC 8773
    delegated_credential = 34  # RFC 9345
    session_ticket = 35  # RFC 5077, RFC 8447 (was SessionTicket TLS)
    TLMSP = 36
    TLMSP_proxying = 37
    TLMSP_delegate = 38
    supported_ekt_ciphers = 39  # RFC 8870
    pre_shared_key = 41  # RFC 8446
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    oid_filters = 48
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51
    transparency_info = 52  # RFC 9162
    connection_id_deprecated = 53  # RFC 9146 ("connection_id (deprecated)")
    connection_id = 54  # RFC 9146
    external_id_hash = 55  # RFC 8844
    external_session_id = 56
    quic_transport_parameters = 57  # RFC 9001
    ticket_request = 58  # RFC 9149
    dnssec_chain = 59  # RFC 9102
    sequence_number_encryption_algorithms = 60
    ech_outer_extensions = 0xFD00  # draft-ietf-tls-esni
    encrypted_client_hello = 0xFE0D  # draft-ietf-tls-esni
    renegotiation_info = 0xFF01  # RFC 5746


class CipherSuite(enum.IntEnum):
    """TLS Cipher Suites, IANA registry (generated; see the module docstring).

    TLS 1.3 suites (RFC 8446 §B.4) name only the AEAD and the hash,
    ``TLS_AEAD_HASH``; TLS 1.0-1.2 suites name the key exchange too,
    ``TLS_KEX_WITH_CIPHER_MAC`` (RFC 5246 §A.5).  The two SCSVs
    (``TLS_EMPTY_RENEGOTIATION_INFO_SCSV``, ``TLS_FALLBACK_SCSV``) are
    signals, not suites.
    """

    TLS_NULL_WITH_NULL_NULL = 0x0000
    TLS_RSA_WITH_NULL_MD5 = 0x0001
    TLS_RSA_WITH_NULL_SHA = 0x0002
    TLS_RSA_EXPORT_WITH_RC4_40_MD5 = 0x0003
    TLS_RSA_WITH_RC4_128_MD5 = 0x0004
    TLS_RSA_WITH_RC4_128_SHA = 0x0005
    TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5 = 0x0006
    TLS_RSA_WITH_IDEA_CBC_SHA = 0x0007
    TLS_RSA_EXPORT_WITH_DES40_CBC_SHA = 0x0008
    TLS_RSA_WITH_DES_CBC_SHA = 0x0009
    TLS_RSA_WITH_3DES_EDE_CBC_SHA = 0x000A
    TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA = 0x000B
    TLS_DH_DSS_WITH_DES_CBC_SHA = 0x000C
    TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA = 0x000D
    TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA = 0x000E
    TLS_DH_RSA_WITH_DES_CBC_SHA = 0x000F
    TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA = 0x0010
    TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA = 0x0011
    TLS_DHE_DSS_WITH_DES_CBC_SHA = 0x0012
    TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA = 0x0013
    TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA = 0x0014
    TLS_DHE_RSA_WITH_DES_CBC_SHA = 0x0015
    TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA = 0x0016
    TLS_DH_anon_EXPORT_WITH_RC4_40_MD5 = 0x0017
    TLS_DH_anon_WITH_RC4_128_MD5 = 0x0018
    TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA = 0x0019
    TLS_DH_anon_WITH_DES_CBC_SHA = 0x001A
    TLS_DH_anon_WITH_3DES_EDE_CBC_SHA = 0x001B
    TLS_KRB5_WITH_DES_CBC_SHA = 0x001E
    TLS_KRB5_WITH_3DES_EDE_CBC_SHA = 0x001F
    TLS_KRB5_WITH_RC4_128_SHA = 0x0020
    TLS_KRB5_WITH_IDEA_CBC_SHA = 0x0021
    TLS_KRB5_WITH_DES_CBC_MD5 = 0x0022
    TLS_KRB5_WITH_3DES_EDE_CBC_MD5 = 0x0023
    TLS_KRB5_WITH_RC4_128_MD5 = 0x0024
    TLS_KRB5_WITH_IDEA_CBC_MD5 = 0x0025
    TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA = 0x0026
    TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA = 0x0027
    TLS_KRB5_EXPORT_WITH_RC4_40_SHA = 0x0028
    TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5 = 0x0029
    TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5 = 0x002A
    TLS_KRB5_EXPORT_WITH_RC4_40_MD5 = 0x002B
    TLS_PSK_WITH_NULL_SHA = 0x002C
    TLS_DHE_PSK_WITH_NULL_SHA = 0x002D
    TLS_RSA_PSK_WITH_NULL_SHA = 0x002E
    TLS_RSA_WITH_AES_128_CBC_SHA = 0x002F
    TLS_DH_DSS_WITH_AES_128_CBC_SHA = 0x0030
    TLS_DH_RSA_WITH_AES_128_CBC_SHA = 0x0031
    TLS_DHE_DSS_WITH_AES_128_CBC_SHA = 0x0032
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA = 0x0033
    TLS_DH_anon_WITH_AES_128_CBC_SHA = 0x0034
    TLS_RSA_WITH_AES_256_CBC_SHA = 0x0035
    TLS_DH_DSS_WITH_AES_256_CBC_SHA = 0x0036
    TLS_DH_RSA_WITH_AES_256_CBC_SHA = 0x0037
    TLS_DHE_DSS_WITH_AES_256_CBC_SHA = 0x0038
    TLS_DHE_RSA_WITH_AES_256_CBC_SHA = 0x0039
    TLS_DH_anon_WITH_AES_256_CBC_SHA = 0x003A
    TLS_RSA_WITH_NULL_SHA256 = 0x003B
    TLS_RSA_WITH_AES_128_CBC_SHA256 = 0x003C
    TLS_RSA_WITH_AES_256_CBC_SHA256 = 0x003D
    TLS_DH_DSS_WITH_AES_128_CBC_SHA256 = 0x003E
    TLS_DH_RSA_WITH_AES_128_CBC_SHA256 = 0x003F
    TLS_DHE_DSS_WITH_AES_128_CBC_SHA256 = 0x0040
    TLS_RSA_WITH_CAMELLIA_128_CBC_SHA = 0x0041
    TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA = 0x0042
    TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA = 0x0043
    TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA = 0x0044
    TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA = 0x0045
    TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA = 0x0046
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 = 0x0067
    TLS_DH_DSS_WITH_AES_256_CBC_SHA256 = 0x0068
    TLS_DH_RSA_WITH_AES_256_CBC_SHA256 = 0x0069
    TLS_DHE_DSS_WITH_AES_256_CBC_SHA256 = 0x006A
    TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 = 0x006B
    TLS_DH_anon_WITH_AES_128_CBC_SHA256 = 0x006C
    TLS_DH_anon_WITH_AES_256_CBC_SHA256 = 0x006D
    TLS_RSA_WITH_CAMELLIA_256_CBC_SHA = 0x0084
    TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA = 0x0085
    TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA = 0x0086
    TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA = 0x0087
    TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA = 0x0088
    TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA = 0x0089
    TLS_PSK_WITH_RC4_128_SHA = 0x008A
    TLS_PSK_WITH_3DES_EDE_CBC_SHA = 0x008B
    TLS_PSK_WITH_AES_128_CBC_SHA = 0x008C
    TLS_PSK_WITH_AES_256_CBC_SHA = 0x008D
    TLS_DHE_PSK_WITH_RC4_128_SHA = 0x008E
    TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA = 0x008F
    TLS_DHE_PSK_WITH_AES_128_CBC_SHA = 0x0090
    TLS_DHE_PSK_WITH_AES_256_CBC_SHA = 0x0091
    TLS_RSA_PSK_WITH_RC4_128_SHA = 0x0092
    TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA = 0x0093
    TLS_RSA_PSK_WITH_AES_128_CBC_SHA = 0x0094
    TLS_RSA_PSK_WITH_AES_256_CBC_SHA = 0x0095
    TLS_RSA_WITH_SEED_CBC_SHA = 0x0096
    TLS_DH_DSS_WITH_SEED_CBC_SHA = 0x0097
    TLS_DH_RSA_WITH_SEED_CBC_SHA = 0x0098
    TLS_DHE_DSS_WITH_SEED_CBC_SHA = 0x0099
    TLS_DHE_RSA_WITH_SEED_CBC_SHA = 0x009A
    TLS_DH_anon_WITH_SEED_CBC_SHA = 0x009B
    TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009C
    TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009D
    TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 = 0x009E
    TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 = 0x009F
    TLS_DH_RSA_WITH_AES_128_GCM_SHA256 = 0x00A0
    TLS_DH_RSA_WITH_AES_256_GCM_SHA384 = 0x00A1
    TLS_DHE_DSS_WITH_AES_128_GCM_SHA256 = 0x00A2
    TLS_DHE_DSS_WITH_AES_256_GCM_SHA384 = 0x00A3
    TLS_DH_DSS_WITH_AES_128_GCM_SHA256 = 0x00A4
    TLS_DH_DSS_WITH_AES_256_GCM_SHA384 = 0x00A5
    TLS_DH_anon_WITH_AES_128_GCM_SHA256 = 0x00A6
    TLS_DH_anon_WITH_AES_256_GCM_SHA384 = 0x00A7
    TLS_PSK_WITH_AES_128_GCM_SHA256 = 0x00A8
    TLS_PSK_WITH_AES_256_GCM_SHA384 = 0x00A9
    TLS_DHE_PSK_WITH_AES_128_GCM_SHA256 = 0x00AA
    TLS_DHE_PSK_WITH_AES_256_GCM_SHA384 = 0x00AB
    TLS_RSA_PSK_WITH_AES_128_GCM_SHA256 = 0x00AC
    TLS_RSA_PSK_WITH_AES_256_GCM_SHA384 = 0x00AD
    TLS_PSK_WITH_AES_128_CBC_SHA256 = 0x00AE
    TLS_PSK_WITH_AES_256_CBC_SHA384 = 0x00AF
    TLS_PSK_WITH_NULL_SHA256 = 0x00B0
    TLS_PSK_WITH_NULL_SHA384 = 0x00B1
    TLS_DHE_PSK_WITH_AES_128_CBC_SHA256 = 0x00B2
    TLS_DHE_PSK_WITH_AES_256_CBC_SHA384 = 0x00B3
    TLS_DHE_PSK_WITH_NULL_SHA256 = 0x00B4
    TLS_DHE_PSK_WITH_NULL_SHA384 = 0x00B5
    TLS_RSA_PSK_WITH_AES_128_CBC_SHA256 = 0x00B6
    TLS_RSA_PSK_WITH_AES_256_CBC_SHA384 = 0x00B7
    TLS_RSA_PSK_WITH_NULL_SHA256 = 0x00B8
    TLS_RSA_PSK_WITH_NULL_SHA384 = 0x00B9
    TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BA
    TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BB
    TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BC
    TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BD
    TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BE
    TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BF
    TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C0
    TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C1
    TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C2
    TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C3
    TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C4
    TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C5
    TLS_SM4_GCM_SM3 = 0x00C6
    TLS_SM4_CCM_SM3 = 0x00C7
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF
    TLS_AES_128_GCM_SHA256 = 0x1301
    TLS_AES_256_GCM_SHA384 = 0x1302
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303
    TLS_AES_128_CCM_SHA256 = 0x1304
    TLS_AES_128_CCM_8_SHA256 = 0x1305
    TLS_AEGIS_256_SHA512 = 0x1306
    TLS_AEGIS_128L_SHA256 = 0x1307
    TLS_FALLBACK_SCSV = 0x5600
    TLS_ECDH_ECDSA_WITH_NULL_SHA = 0xC001
    TLS_ECDH_ECDSA_WITH_RC4_128_SHA = 0xC002
    TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA = 0xC003
    TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA = 0xC004
    TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA = 0xC005
    TLS_ECDHE_ECDSA_WITH_NULL_SHA = 0xC006
    TLS_ECDHE_ECDSA_WITH_RC4_128_SHA = 0xC007
    TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA = 0xC008
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = 0xC009
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = 0xC00A
    TLS_ECDH_RSA_WITH_NULL_SHA = 0xC00B
    TLS_ECDH_RSA_WITH_RC4_128_SHA = 0xC00C
    TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA = 0xC00D
    TLS_ECDH_RSA_WITH_AES_128_CBC_SHA = 0xC00E
    TLS_ECDH_RSA_WITH_AES_256_CBC_SHA = 0xC00F
    TLS_ECDHE_RSA_WITH_NULL_SHA = 0xC010
    TLS_ECDHE_RSA_WITH_RC4_128_SHA = 0xC011
    TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA = 0xC012
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA = 0xC013
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA = 0xC014
    TLS_ECDH_anon_WITH_NULL_SHA = 0xC015
    TLS_ECDH_anon_WITH_RC4_128_SHA = 0xC016
    TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA = 0xC017
    TLS_ECDH_anon_WITH_AES_128_CBC_SHA = 0xC018
    TLS_ECDH_anon_WITH_AES_256_CBC_SHA = 0xC019
    TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA = 0xC01A
    TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA = 0xC01B
    TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA = 0xC01C
    TLS_SRP_SHA_WITH_AES_128_CBC_SHA = 0xC01D
    TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA = 0xC01E
    TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA = 0xC01F
    TLS_SRP_SHA_WITH_AES_256_CBC_SHA = 0xC020
    TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA = 0xC021
    TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA = 0xC022
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xC023
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 = 0xC024
    TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256 = 0xC025
    TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384 = 0xC026
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 = 0xC027
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 = 0xC028
    TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256 = 0xC029
    TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384 = 0xC02A
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C
    TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02D
    TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02E
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030
    TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256 = 0xC031
    TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384 = 0xC032
    TLS_ECDHE_PSK_WITH_RC4_128_SHA = 0xC033
    TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA = 0xC034
    TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA = 0xC035
    TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA = 0xC036
    TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 = 0xC037
    TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384 = 0xC038
    TLS_ECDHE_PSK_WITH_NULL_SHA = 0xC039
    TLS_ECDHE_PSK_WITH_NULL_SHA256 = 0xC03A
    TLS_ECDHE_PSK_WITH_NULL_SHA384 = 0xC03B
    TLS_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC03C
    TLS_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC03D
    TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256 = 0xC03E
    TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384 = 0xC03F
    TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC040
    TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC041
    TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256 = 0xC042
    TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384 = 0xC043
    TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC044
    TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC045
    TLS_DH_anon_WITH_ARIA_128_CBC_SHA256 = 0xC046
    TLS_DH_anon_WITH_ARIA_256_CBC_SHA384 = 0xC047
    TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256 = 0xC048
    TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384 = 0xC049
    TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256 = 0xC04A
    TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384 = 0xC04B
    TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC04C
    TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC04D
    TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC04E
    TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC04F
    TLS_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC050
    TLS_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC051
    TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC052
    TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC053
    TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC054
    TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC055
    TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256 = 0xC056
    TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384 = 0xC057
    TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256 = 0xC058
    TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384 = 0xC059
    TLS_DH_anon_WITH_ARIA_128_GCM_SHA256 = 0xC05A
    TLS_DH_anon_WITH_ARIA_256_GCM_SHA384 = 0xC05B
    TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256 = 0xC05C
    TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384 = 0xC05D
    TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256 = 0xC05E
    TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384 = 0xC05F
    TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC060
    TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC061
    TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC062
    TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC063
    TLS_PSK_WITH_ARIA_128_CBC_SHA256 = 0xC064
    TLS_PSK_WITH_ARIA_256_CBC_SHA384 = 0xC065
    TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256 = 0xC066
    TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384 = 0xC067
    TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256 = 0xC068
    TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384 = 0xC069
    TLS_PSK_WITH_ARIA_128_GCM_SHA256 = 0xC06A
    TLS_PSK_WITH_ARIA_256_GCM_SHA384 = 0xC06B
    TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256 = 0xC06C
    TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384 = 0xC06D
    TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256 = 0xC06E
    TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384 = 0xC06F
    TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256 = 0xC070
    TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384 = 0xC071
    TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256 = 0xC072
    TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384 = 0xC073
    TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256 = 0xC074
    TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384 = 0xC075
    TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0xC076
    TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384 = 0xC077
    TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0xC078
    TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384 = 0xC079
    TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC07A
    TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC07B
    TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC07C
    TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC07D
    TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC07E
    TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC07F
    TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256 = 0xC080
    TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384 = 0xC081
    TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256 = 0xC082
    TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384 = 0xC083
    TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256 = 0xC084
    TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384 = 0xC085
    TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC086
    TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC087
    TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC088
    TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC089
    TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC08A
    TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC08B
    TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC08C
    TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC08D
    TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256 = 0xC08E
    TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384 = 0xC08F
    TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256 = 0xC090
    TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384 = 0xC091
    TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256 = 0xC092
    TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384 = 0xC093
    TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256 = 0xC094
    TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384 = 0xC095
    TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256 = 0xC096
    TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384 = 0xC097
    TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256 = 0xC098
    TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384 = 0xC099
    TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256 = 0xC09A
    TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384 = 0xC09B
    TLS_RSA_WITH_AES_128_CCM = 0xC09C
    TLS_RSA_WITH_AES_256_CCM = 0xC09D
    TLS_DHE_RSA_WITH_AES_128_CCM = 0xC09E
    TLS_DHE_RSA_WITH_AES_256_CCM = 0xC09F
    TLS_RSA_WITH_AES_128_CCM_8 = 0xC0A0
    TLS_RSA_WITH_AES_256_CCM_8 = 0xC0A1
    TLS_DHE_RSA_WITH_AES_128_CCM_8 = 0xC0A2
    TLS_DHE_RSA_WITH_AES_256_CCM_8 = 0xC0A3
    TLS_PSK_WITH_AES_128_CCM = 0xC0A4
    TLS_PSK_WITH_AES_256_CCM = 0xC0A5
    TLS_DHE_PSK_WITH_AES_128_CCM = 0xC0A6
    TLS_DHE_PSK_WITH_AES_256_CCM = 0xC0A7
    TLS_PSK_WITH_AES_128_CCM_8 = 0xC0A8
    TLS_PSK_WITH_AES_256_CCM_8 = 0xC0A9
    TLS_PSK_DHE_WITH_AES_128_CCM_8 = 0xC0AA
    TLS_PSK_DHE_WITH_AES_256_CCM_8 = 0xC0AB
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM = 0xC0AC
    TLS_ECDHE_ECDSA_WITH_AES_256_CCM = 0xC0AD
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 = 0xC0AE
    TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8 = 0xC0AF
    TLS_ECCPWD_WITH_AES_128_GCM_SHA256 = 0xC0B0
    TLS_ECCPWD_WITH_AES_256_GCM_SHA384 = 0xC0B1
    TLS_ECCPWD_WITH_AES_128_CCM_SHA256 = 0xC0B2
    TLS_ECCPWD_WITH_AES_256_CCM_SHA384 = 0xC0B3
    TLS_SHA256_SHA256 = 0xC0B4
    TLS_SHA384_SHA384 = 0xC0B5
    TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC = 0xC100
    TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC = 0xC101
    TLS_GOSTR341112_256_WITH_28147_CNT_IMIT = 0xC102
    TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L = 0xC103
    TLS_GOSTR341112_256_WITH_MAGMA_MGM_L = 0xC104
    TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S = 0xC105
    TLS_GOSTR341112_256_WITH_MAGMA_MGM_S = 0xC106
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9
    TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAA
    TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAB
    TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAC
    TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAD
    TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAE
    TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 = 0xD001
    TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 = 0xD002
    TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256 = 0xD003
    TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256 = 0xD005


class NamedGroup(enum.IntEnum):
    """Supported Groups, IANA registry; RFC 8446 §4.2.7, RFC 8422 §5.1.1 (was NamedCurve), RFC 7919.

    1-25 are the SEC 2 curves of RFC 4492 (deprecated by RFC 8422 except
    secp256r1/384r1/521r1); ML-KEM groups from draft-connolly-tls-mlkem-key-agreement
    and draft-kwiatkowski-tls-ecdhe-mlkem; the Kyber draft code points are what
    browsers sent before ML-KEM.
    """

    sect163k1 = 1
    sect163r1 = 2
    sect163r2 = 3
    sect193r1 = 4
    sect193r2 = 5
    sect233k1 = 6
    sect233r1 = 7
    sect239k1 = 8
    sect283k1 = 9
    sect283r1 = 10
    sect409k1 = 11
    sect409r1 = 12
    sect571k1 = 13
    sect571r1 = 14
    secp160k1 = 15
    secp160r1 = 16
    secp160r2 = 17
    secp192k1 = 18
    secp192r1 = 19
    secp224k1 = 20
    secp224r1 = 21
    secp256k1 = 22
    secp256r1 = 23
    secp384r1 = 24
    secp521r1 = 25
    brainpoolP256r1 = 26  # RFC 7027
    brainpoolP384r1 = 27
    brainpoolP512r1 = 28
    x25519 = 29  # RFC 8422
    x448 = 30
    brainpoolP256r1tls13 = 31  # RFC 8734
    brainpoolP384r1tls13 = 32
    brainpoolP512r1tls13 = 33
    GC256A = 34  # RFC 9189
    GC256B = 35
    GC256C = 36
    GC256D = 37
    GC512A = 38
    GC512B = 39
    GC512C = 40
    curveSM2 = 41  # RFC 8998
    ffdhe2048 = 0x0100  # RFC 7919
    ffdhe3072 = 0x0101
    ffdhe4096 = 0x0102
    ffdhe6144 = 0x0103
    ffdhe8192 = 0x0104
    MLKEM512 = 0x0200
    MLKEM768 = 0x0201
    MLKEM1024 = 0x0202
    SecP256r1MLKEM768 = 0x11EB
    X25519MLKEM768 = 0x11EC
    SecP384r1MLKEM1024 = 0x11ED
    X25519Kyber768Draft00 = 0x6399
    SecP256r1Kyber768Draft00 = 0x639A
    arbitrary_explicit_prime_curves = 0xFF01  # RFC 8422
    arbitrary_explicit_char2_curves = 0xFF02


class SignatureScheme(enum.IntEnum):
    """TLS SignatureScheme, RFC 8446 §4.2.3 and the IANA registry.

    In TLS 1.2 the same two bytes are a (HashAlgorithm, SignatureAlgorithm)
    pair, RFC 5246 §7.4.1.4.1; pairs with no scheme name (e.g. 0x0402
    dsa/sha256) stay ints and :func:`describe` spells the pair.
    """

    rsa_pkcs1_sha1 = 0x0201
    ecdsa_sha1 = 0x0203
    rsa_pkcs1_sha256 = 0x0401
    ecdsa_secp256r1_sha256 = 0x0403
    rsa_pkcs1_sha256_legacy = 0x0420  # draft-ietf-tls-tls13-pkcs1
    rsa_pkcs1_sha384 = 0x0501
    ecdsa_secp384r1_sha384 = 0x0503
    rsa_pkcs1_sha384_legacy = 0x0520
    rsa_pkcs1_sha512 = 0x0601
    ecdsa_secp521r1_sha512 = 0x0603
    rsa_pkcs1_sha512_legacy = 0x0620
    eccsi_sha256 = 0x0704  # draft-wang-tls-raw-public-key-with-ibc
    iso_ibs1 = 0x0705
    iso_ibs2 = 0x0706
    iso_chinese_ibs = 0x0707
    sm2sig_sm3 = 0x0708  # RFC 8998
    gostr34102012_256a = 0x0709  # RFC 9367
    gostr34102012_256b = 0x070A
    gostr34102012_256c = 0x070B
    gostr34102012_256d = 0x070C
    gostr34102012_512a = 0x070D
    gostr34102012_512b = 0x070E
    gostr34102012_512c = 0x070F
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807
    ed448 = 0x0808
    rsa_pss_pss_sha256 = 0x0809
    rsa_pss_pss_sha384 = 0x080A
    rsa_pss_pss_sha512 = 0x080B
    ecdsa_brainpoolP256r1tls13_sha256 = 0x081A  # RFC 8734
    ecdsa_brainpoolP384r1tls13_sha384 = 0x081B
    ecdsa_brainpoolP512r1tls13_sha512 = 0x081C
    mldsa44 = 0x0904  # draft-ietf-tls-mldsa
    mldsa65 = 0x0905
    mldsa87 = 0x0906


class HashAlgorithm(enum.IntEnum):
    """TLS 1.2 HashAlgorithm, RFC 5246 §7.4.1.4.1 (intrinsic: RFC 8422)."""

    none = 0
    md5 = 1
    sha1 = 2
    sha224 = 3
    sha256 = 4
    sha384 = 5
    sha512 = 6
    intrinsic = 8


class SignatureAlgorithm(enum.IntEnum):
    """TLS 1.2 SignatureAlgorithm, RFC 5246 §7.4.1.4.1 (ed25519/ed448: RFC 8422)."""

    anonymous = 0
    rsa = 1
    dsa = 2
    ecdsa = 3
    ed25519 = 7
    ed448 = 8


class AlertLevel(enum.IntEnum):
    """AlertLevel, RFC 5246 §7.2 (RFC 8446 §6: ignored in TLS 1.3, severity is implied)."""

    warning = 1
    fatal = 2


class AlertDescription(enum.IntEnum):
    """AlertDescription, RFC 8446 §6 and RFC 5246 §7.2.

    RFC 8446 suffixes the values TLS 1.3 no longer sends with ``_RESERVED``
    (decryption_failed, decompression_failure, no_certificate,
    export_restriction, no_renegotiation); the handbook covers TLS 1.0-1.2
    too, so members keep the plain names of the IANA registry.
    """

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed = 21
    record_overflow = 22
    decompression_failure = 30
    handshake_failure = 40
    no_certificate = 41
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    too_many_cids_requested = 52  # RFC 9147
    export_restriction = 60
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86  # RFC 7507
    user_canceled = 90
    no_renegotiation = 100
    missing_extension = 109
    unsupported_extension = 110
    certificate_unobtainable = 111  # RFC 6066
    unrecognized_name = 112
    bad_certificate_status_response = 113
    bad_certificate_hash_value = 114
    unknown_psk_identity = 115  # RFC 4279
    certificate_required = 116
    no_application_protocol = 120  # RFC 7301
    ech_required = 121  # draft-ietf-tls-esni


class ProtocolVersion(enum.IntEnum):
    """ProtocolVersion, RFC 8446 §4.2.1 / RFC 5246 §6.2.1 (``{3, 3}`` is TLS 1.2).

    ``label`` is the human spelling (``"TLS 1.2"``) used by the JSON contract.
    """

    SSL_3_0 = 0x0300
    TLS_1_0 = 0x0301
    TLS_1_1 = 0x0302
    TLS_1_2 = 0x0303
    TLS_1_3 = 0x0304

    @property
    def label(self) -> str:
        """``"SSL 3.0"``, ``"TLS 1.0"`` ... ``"TLS 1.3"``."""
        proto, major, minor = self.name.split("_")
        return f"{proto} {major}.{minor}"


class ECPointFormat(enum.IntEnum):
    """ECPointFormat, RFC 8422 §5.1.2 (only ``uncompressed`` remains in use)."""

    uncompressed = 0
    ansiX962_compressed_prime = 1
    ansiX962_compressed_char2 = 2


class ECCurveType(enum.IntEnum):
    """ECCurveType in ServerECDHParams, RFC 8422 §5.4 (explicit curves are deprecated)."""

    explicit_prime = 1
    explicit_char2 = 2
    named_curve = 3


class PskKeyExchangeMode(enum.IntEnum):
    """PskKeyExchangeMode, RFC 8446 §4.2.9."""

    psk_ke = 0
    psk_dhe_ke = 1


class CompressionMethod(enum.IntEnum):
    """CompressionMethod, RFC 5246 §7.4.1.2 and RFC 3749; TLS 1.3 allows only ``null``."""

    null = 0
    DEFLATE = 1
    LZS = 64  # RFC 3943


class NameType(enum.IntEnum):
    """ServerName name_type, RFC 6066 §3."""

    host_name = 0


class CertificateStatusType(enum.IntEnum):
    """CertificateStatusType, RFC 6066 §8 and RFC 6961."""

    ocsp = 1
    ocsp_multi = 2


class ClientCertificateType(enum.IntEnum):
    """ClientCertificateType in a TLS 1.2 CertificateRequest, RFC 5246 §7.4.4, RFC 8422 §5.5."""

    rsa_sign = 1
    dss_sign = 2
    rsa_fixed_dh = 3
    dss_fixed_dh = 4
    rsa_ephemeral_dh = 5
    dss_ephemeral_dh = 6
    fortezza_dms = 20
    ecdsa_sign = 64
    rsa_fixed_ecdh = 65
    ecdsa_fixed_ecdh = 66
    gost_sign256 = 67  # RFC 9189
    gost_sign512 = 68


class KeyUpdateRequest(enum.IntEnum):
    """KeyUpdateRequest, RFC 8446 §4.6.3."""

    update_not_requested = 0
    update_requested = 1


# -- GREASE, RFC 8701 ------------------------------------------------------

#: The 16 two-byte GREASE values {0x?A, 0x?A} (cipher suites, extensions,
#: groups, signature algorithms, versions), RFC 8701 §2.
GREASE_VALUES: frozenset[int] = frozenset(0x0A0A + 0x1010 * i for i in range(16))

#: One-byte GREASE values (psk_key_exchange_modes), RFC 8701 §2.
GREASE_VALUES_U8: frozenset[int] = frozenset(0x0B + 0x1F * i for i in range(8))


def is_grease(value: int, size: int = 2) -> bool:
    """True if *value* is a GREASE code point, RFC 8701 §2.

    Args:
        value: the code point.
        size: its width in bytes: 2 (suites, extensions, groups, ...) or
            1 (psk_key_exchange_modes).
    """
    return value in (GREASE_VALUES_U8 if size == 1 else GREASE_VALUES)


# Registries whose code points are two bytes wide (the rest are one byte).
_WIDE: frozenset[type[enum.IntEnum]] = frozenset(
    {CipherSuite, ExtensionType, NamedGroup, SignatureScheme, ProtocolVersion}
)


def lookup(registry: type[enum.IntEnum], value: int) -> enum.IntEnum | int:
    """The member of *registry* with this value, or the plain int if it has none.

    >>> lookup(CipherSuite, 0x1301)
    <CipherSuite.TLS_AES_128_GCM_SHA256: 4865>
    >>> lookup(CipherSuite, 0x0a0a)
    2570
    """
    # A plain dict per registry: calling the enum (Enum.__call__ → __new__ →
    # _missing_) costs about ten times as much, and the parsers call this for
    # every code point they read.
    table = _MEMBERS.get(registry)
    if table is None:
        table = _MEMBERS[registry] = {member.value: member for member in registry}
    member = table.get(value)
    if member is not None:
        return member
    if type(value) is int:
        return value  # unassigned (or GREASE): stays an int
    try:
        return registry(value)
    except ValueError:
        return int(value)


# registry -> {value: member}, filled on first use by lookup().
_MEMBERS: dict[type[enum.IntEnum], dict[int, enum.IntEnum]] = {}


def members(registry: type[enum.IntEnum]) -> dict[int, enum.IntEnum]:
    """The table :func:`lookup` reads: value → member.

    For an ``int`` value, ``members(registry).get(value, value)`` is
    ``lookup(registry, value)`` without the call; decoders that read a code
    point per field keep the bound ``get``.  Do not modify the table.

    >>> members(ContentType).get(22, 22), members(ContentType).get(99, 99)
    (<ContentType.handshake: 22>, 99)
    """
    table = _MEMBERS.get(registry)
    if table is None:
        lookup(registry, 0)  # fills the table
        table = _MEMBERS[registry]
    return table


def lookup_all(registry: type[enum.IntEnum], values: tuple[int, ...]) -> tuple[enum.IntEnum | int, ...]:
    """:func:`lookup` for each of several ints (a list of code points, read at once).

    >>> lookup_all(ContentType, (22, 99))
    (<ContentType.handshake: 22>, 99)
    """
    get = members(registry).get
    return tuple([get(v, v) if type(v) is int else lookup(registry, v) for v in values])


def describe(registry: type[enum.IntEnum], value: int) -> str:
    """A code point as "name (0x....)": the member name, GREASE or unassigned.

    Two-byte registries print four hex digits, one-byte registries two.
    TLS 1.2 signature pairs with no scheme name spell the pair
    (``"sha256+dsa (0x0402)"``, RFC 5246 §7.4.1.4.1).

    >>> describe(CipherSuite, 0x1301)
    'TLS_AES_128_GCM_SHA256 (0x1301)'
    >>> describe(CipherSuite, 0x0a0a)
    'GREASE (0x0a0a)'
    >>> describe(CipherSuite, 0x1234)
    'unassigned (0x1234)'
    """
    value = int(value)
    size = 2 if registry in _WIDE else 1
    number = f"0x{value:0{2 * size}x}"
    member = lookup(registry, value)
    if isinstance(member, enum.IntEnum):
        return f"{member.name} ({number})"
    if registry is PskKeyExchangeMode and is_grease(value, 1):
        return f"GREASE ({number})"
    if size == 2 and is_grease(value):
        return f"GREASE ({number})"
    if registry is SignatureScheme:
        hash_alg = lookup(HashAlgorithm, value >> 8)
        sig_alg = lookup(SignatureAlgorithm, value & 0xFF)
        if isinstance(hash_alg, HashAlgorithm) and isinstance(sig_alg, SignatureAlgorithm):
            return f"{hash_alg.name}+{sig_alg.name} ({number})"
    return f"unassigned ({number})"


def key_exchange(suite: int) -> str | None:
    """The key exchange part of a TLS 1.0-1.2 suite name, e.g. ``"ECDHE_RSA"``.

    Read off the IANA name ``TLS_<kex>_WITH_<cipher>_<mac>`` (RFC 5246
    §A.5): ``"RSA"``, ``"DHE_RSA"``, ``"ECDHE_ECDSA"``, ``"DH_anon"``,
    ``"ECDHE_PSK"``, ... ``None`` for TLS 1.3 suites (the key exchange is
    negotiated by extensions, RFC 8446 §4.1.1), SCSVs and unknown values.

    >>> key_exchange(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
    'ECDHE_RSA'
    >>> key_exchange(CipherSuite.TLS_AES_128_GCM_SHA256) is None
    True
    """
    member = lookup(CipherSuite, suite)
    if not isinstance(member, CipherSuite) or "_WITH_" not in member.name:
        return None
    return member.name[len("TLS_") :].split("_WITH_", 1)[0]

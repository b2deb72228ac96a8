"""The scapy side of the ClientHello/ServerHello benchmark (run as a child by run.py).

    python bench/scapy_hello.py CAPTURE > hellos.tsv

Reads CAPTURE with scapy's PcapReader and its TLS layer
(``scapy.layers.tls``, which dissects TCP port 443), and prints one line
per ClientHello or ServerHello with the fields the tshark run extracts:
handshake type, legacy version, cipher suites, SNI, random (hex), tab
separated.  This is how a scapy user would do it: one packet at a time,
no TCP reassembly (every hello in the synthetic capture starts a segment).
"""

from __future__ import annotations

import sys
import warnings


def main(path: str) -> int:
    import logging

    logging.getLogger("scapy").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    from scapy.all import PcapReader, load_layer

    load_layer("tls")
    from scapy.layers.tls.extensions import TLS_Ext_ServerName
    from scapy.layers.tls.handshake import TLSClientHello, TLSServerHello

    out = sys.stdout
    frames = 0
    for packet in PcapReader(path):
        frames += 1
        for cls, kind in ((TLSClientHello, 1), (TLSServerHello, 2)):
            if not packet.haslayer(cls):
                continue
            hello = packet[cls]
            if kind == 1:
                suites = ",".join(f"0x{c:04x}" for c in (hello.ciphers or []))
            else:
                suites = f"0x{hello.cipher:04x}"
            sni = ""
            if hello.haslayer(TLS_Ext_ServerName):
                names = hello[TLS_Ext_ServerName].servernames or []
                sni = ",".join(n.servername.decode("ascii", "replace") for n in names)
            random = hello.gmt_unix_time.to_bytes(4, "big") + bytes(hello.random_bytes)
            out.write(f"{kind}\t0x{hello.version:04x}\t{suites}\t{sni}\t{random.hex()}\n")
    sys.stderr.write(f"scapy_hello: {frames} frames\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

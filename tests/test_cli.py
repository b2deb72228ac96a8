"""The command line as a contract: exit codes, one-line errors, JSON shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CAPTURES
from tlsdoc.cli import main

TLS13 = CAPTURES / "tls13.pcapng"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _file(tmp, name, content: bytes):
    path = tmp / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: tmp / "missing.pcap", "no such file"),
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: _file(tmp, "empty.pcap", b""), "empty"),
        (lambda tmp: _file(tmp, "text.pcap", b"hello, world\n"), "not a pcap or pcapng file"),
    ],
    ids=["missing", "directory", "empty", "not-a-capture"],
)
def test_unusable_input_is_one_line_and_exit_2(tmp_path, capsys, make, message):
    path = make(tmp_path)
    code, out, err = run(capsys, "show", str(path))
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tlsdoc: error: ")
    assert message in lines[0]
    assert str(path) in lines[0]


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["show"])
    assert excinfo.value.code == 2
    assert capsys.readouterr().err.startswith("tlsdoc: error: ")


def test_tampered_bundled_capture_is_refused(tmp_path, capsys):
    # A copy of the captures directory with one byte changed in a capture:
    # the manifest travels with it, so the analysis must refuse the file.
    copy = tmp_path / "captures"
    copy.mkdir()
    for p in CAPTURES.iterdir():
        if p.is_file():
            (copy / p.name).write_bytes(p.read_bytes())
    data = bytearray((copy / "tls13.pcapng").read_bytes())
    data[-100] ^= 0xFF
    (copy / "tls13.pcapng").write_bytes(bytes(data))
    code, out, err = run(capsys, "show", str(copy / "tls13.pcapng"))
    assert code == 2
    assert "tls13.pcapng" in err and "does not match" in err


def test_json_document_shape(capsys):
    code, out, err = run(capsys, "show", str(TLS13), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"capture", "connections", "warnings"}
    assert doc["capture"] == str(TLS13)
    assert doc["warnings"] == []
    (conn,) = doc["connections"]
    assert set(conn) == {"client", "server", "tcp", "tls", "application_data", "http"}
    assert conn["tcp"]["handshake"] == ["SYN", "SYN-ACK", "ACK"]
    assert set(conn["tls"]) == {"version", "cipher_suite", "sni", "alpn", "client_random",
                               "handshake", "decrypted"}
    assert conn["tls"]["decrypted"] is False
    assert len(conn["tls"]["client_random"]) == 64
    assert conn["application_data"] == {"client": None, "server": None}


def test_python_dash_m_is_the_same_program():
    proc = subprocess.run(
        [sys.executable, "-m", "tlsdoc", "show", str(TLS13), "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["connections"][0]["tls"]["version"] == "TLS 1.3"


def test_human_output_names_each_flight(capsys):
    code, out, err = run(capsys, "show", str(TLS13))
    assert code == 0, err
    assert "192.0.2.10:" in out and "203.0.113.80:443" in out
    assert "TLS 1.3" in out and "TLS_AES_128_GCM_SHA256 (0x1301)" in out
    assert "SNI www.example.com" in out
    client_line = next(l for l in out.splitlines() if l.strip().startswith("client"))
    assert "ClientHello #4" in client_line


def test_non_tls_connection_is_listed_with_tls_null(capsys):
    code, out, err = run(capsys, "show", str(CAPTURES / "http.pcapng"), "--json")
    assert code == 0, err
    (conn,) = json.loads(out)["connections"]
    assert conn["tls"] is None
    assert conn["server"].endswith(":80")

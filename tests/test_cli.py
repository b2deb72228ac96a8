"""The command line as a contract: exit codes, one-line errors, JSON shape."""

from __future__ import annotations

import io
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


# -- decrypt and verify ------------------------------------------------------------------

KEYLOG13 = CAPTURES / "tls13.keys"
RSA_KEY = CAPTURES / "pki" / "www.example.com.DEMO-ONLY.key.pem"


@pytest.mark.parametrize("command", ["show", "decrypt", "verify"])
@pytest.mark.parametrize("option", ["--keylog", "--key"])
def test_missing_key_file_is_one_line_and_exit_2(tmp_path, capsys, command, option):
    missing = tmp_path / "nope.keys"
    code, out, err = run(capsys, command, str(TLS13), option, str(missing))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("tlsdoc: error: ") and str(missing) in err


def test_malformed_key_files_are_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "decrypt", str(TLS13), "--keylog", str(TLS13))
    assert code == 2 and "not an NSS key log" in err
    code, out, err = run(capsys, "decrypt", str(TLS13), "--key", str(KEYLOG13))
    assert code == 2 and "cannot load the private key" in err and str(KEYLOG13) in err


def test_keylog_with_some_bad_lines_is_used_with_a_warning(tmp_path, capsys):
    keylog = tmp_path / "k.keys"
    keylog.write_text("garbage line here and more\n" + KEYLOG13.read_text())
    code, out, err = run(capsys, "decrypt", str(TLS13), "--keylog", str(keylog), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["connections"][0]["tls"]["decrypted"] is True
    (warning,) = doc["warnings"]
    assert "line 1" in warning


def test_decrypt_json_shape(capsys):
    code, out, err = run(capsys, "decrypt", str(TLS13), "--keylog", str(KEYLOG13), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"capture", "connections", "warnings"}
    (conn,) = doc["connections"]
    assert set(conn) == {"client", "server", "tcp", "tls", "application_data", "http"}
    assert conn["tls"]["decrypted"] is True
    for side in ("client", "server"):
        app = conn["application_data"][side]
        assert set(app) == {"records", "bytes", "sha256"} and len(app["sha256"]) == 64
    (exchange,) = conn["http"]
    assert exchange["request"] == "GET /index.html HTTP/1.1"
    assert exchange["response"] == "HTTP/1.0 200 ok"
    assert len(exchange["body_sha256"]) == 64


def test_verify_json_adds_checks_only_there(capsys):
    code, out, err = run(capsys, "verify", str(TLS13), "--keylog", str(KEYLOG13), "--json")
    assert code == 0
    (conn,) = json.loads(out)["connections"]
    assert [k["name"] for k in conn["checks"]] == [
        "client Finished", "server Finished", "CertificateVerify", "chain"]
    code, out, err = run(capsys, "decrypt", str(TLS13), "--keylog", str(KEYLOG13), "--json")
    assert "checks" not in json.loads(out)["connections"][0]


def test_decrypt_human_output(capsys):
    code, out, err = run(capsys, "decrypt", str(TLS13), "--keylog", str(KEYLOG13))
    assert code == 0 and err == ""
    assert "  → GET /index.html HTTP/1.1" in out
    assert "  ← HTTP/1.0 200 ok" in out
    assert "    Host: www.example.com" in out
    assert "<h1>Hello from www.example.com</h1>" in out
    assert "(body: 336 bytes, close)" in out
    assert "client  1 application data record, 89 bytes" in out
    assert "keys    key log lines" in out


def test_decrypt_tls12_rsa_with_the_key_only(capsys):
    code, out, err = run(capsys, "decrypt", str(CAPTURES / "tls12-rsa.pcapng"), "--key", str(RSA_KEY))
    assert code == 0 and err == ""
    assert f"keys    RSA key {RSA_KEY}" in out and "← HTTP/1.0 200 ok" in out


def _plain_http_capture(tmp_path, body: bytes, content_type: bytes = b"text/plain") -> Path:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("tests_synth", Path(__file__).parent / "synth.py")
    synth = sys.modules.get("tests_synth")
    if synth is None:
        synth = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = synth
        spec.loader.exec_module(synth)
    request = b"GET /big HTTP/1.1\r\nHost: example\r\n\r\n"
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n\r\n" + body)
    packets = synth.synth_connection([request], [response], server=("203.0.113.80", 80))
    return synth.write_capture(tmp_path / "plain.pcap", packets)


def test_long_text_body_is_cut_with_a_note(tmp_path, capsys):
    body = b"".join(b"line %d\n" % i for i in range(500))
    code, out, err = run(capsys, "decrypt", str(_plain_http_capture(tmp_path, body)))
    assert code == 0
    assert "    line 39\n" in out and "line 40\n" not in out
    assert "more characters not shown" in out and f"body: {len(body)} bytes" in out


def test_binary_body_is_summarised_and_control_characters_escaped(tmp_path, capsys):
    body = b"\x1b[2J\x00\xff" * 10
    code, out, err = run(capsys, "decrypt", str(_plain_http_capture(tmp_path, body, b"text/plain\x1b[31m")))
    assert code == 0
    assert "\x1b" not in out
    assert "\\x1b[31m" in out  # in the header, escaped
    assert "not text; sha256" in out


def test_python_dash_m_decrypt():
    proc = subprocess.run(
        [sys.executable, "-m", "tlsdoc", "decrypt", str(TLS13), "--keylog", str(KEYLOG13), "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["connections"][0]["http"][0]["response"] == "HTTP/1.0 200 ok"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty", [True, False])
def test_progress_line_only_on_a_terminal(monkeypatch, capsys, tty):
    # Shrink the thresholds so the small bundled capture counts as large.
    from tlsdoc import analysis, cli

    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)
    monkeypatch.setattr(analysis, "PROGRESS_EVERY", 1)
    err = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["show", str(TLS13), "--json"]) == 0
    json.loads(capsys.readouterr().out)  # stdout stays one clean JSON document
    text = err.getvalue()
    if tty:
        assert "\rtlsdoc: reading" in text and "%" in text
        assert text.endswith("\r\033[K")  # the line is wiped at the end
    else:
        assert text == ""


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_line_is_wiped_before_a_key_log_error(monkeypatch, tmp_path, workers):
    # A big capture: the key log is read while the CPUs are counted (cli._main);
    # an unusable one still ends the progress line before the error is written.
    from tlsdoc import cli

    bad = tmp_path / "bad.keys"
    bad.write_bytes(b"CLIENT_RANDOM zz zz\n")
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)
    monkeypatch.setattr(cli, "_workers", lambda size, started=None: workers if started else 2)
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["decrypt", str(TLS13), "--keylog", str(bad)]) == 2
    assert err.getvalue().startswith("\r\033[Ktlsdoc: error: ") and "line 1" in err.getvalue()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_big_capture_is_checked_against_its_manifest_once(monkeypatch, capsys, workers):
    from tlsdoc import analysis, cli

    checked = []
    real = analysis._check_manifest
    monkeypatch.setattr(analysis, "_check_manifest", lambda path: (checked.append(path), real(path))[1])
    monkeypatch.setattr(cli, "_workers", lambda size, started=None: workers if started else 2)
    assert main(["show", str(TLS13), "--json"]) == 0
    capsys.readouterr()
    assert len(checked) == 1

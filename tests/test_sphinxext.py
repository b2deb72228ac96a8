"""The Sphinx extension: the reference language, filters, and located warnings.

The reference tests resolve against the real bundled captures; the build
tests run Sphinx in-process on a tiny project in a temporary directory, so
a broken directive is seen exactly as a chapter author would see it.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from types import SimpleNamespace as NS

import pytest

from conftest import CAPTURES, ROOT, require_tool
from tlsdoc import sphinxext
from tlsdoc.errors import TlsdocError
from tlsdoc.sphinxext import DocumentError, parse_reference, value_text

CONFIG = NS(tlsdoc_root=str(ROOT), tlsdoc_captures="captures")


# -- the reference grammar ------------------------------------------------------


def test_parse_reference():
    ref = parse_reference(" tls13#2:tcp.client.-1|hex:8|join:/ ")
    assert (ref.source, ref.connection, ref.path) == ("tls13", 2, ("tcp", "client", "-1"))
    assert ref.filters == (("hex", "8"), ("join", "/"))
    assert parse_reference("manifest:").path == ()


@pytest.mark.parametrize(
    "text, message",
    [
        ("tls13.tcp", "not a reference"),
        ("tls13:tcp..seq|nope", "unknown filter 'nope'"),
        ("tls13:tcp.a-b", "not a path step"),
        ("tls13:tcp._frames", "not a path step"),  # private names cannot even be spelled
        ("manifest#1:x", "no connections"),
    ],
)
def test_bad_references(text, message):
    with pytest.raises(DocumentError, match=message):
        parse_reference(text)


# -- resolving against the bundled captures ---------------------------------------------


def value(text: str) -> str:
    return value_text(CONFIG, text)[0]


def test_values_from_the_tls13_capture():
    assert value("tls13:tcp.handshake.syn.frame") == "1"
    assert value("tls13:tcp.handshake.syn_ack.flags|flags") == "SYN, ACK"
    assert value("tls13:tcp.server|endpoint").endswith(":443")
    assert value("tls13:tcp.handshake.names|join") == "SYN, SYN-ACK, ACK"
    assert value("tls13:tcp.handshake.syn.window_scale|pow2") == str(
        2 ** int(value("tls13:tcp.handshake.syn.window_scale"))
    )
    assert value("tls13:tcp.handshake.syn.sack_permitted") == "yes"
    assert value("tls13:tls.cipher_suite") == "TLS_AES_128_GCM_SHA256"  # an enum shows its name
    assert value("tls13:records.client.records.0.span.frames.0") == value(
        "tls13:tls.client_hello.span.frames.0"
    )


def test_filters():
    assert value("tls13:tcp.handshake.syn.seq|hex") == "0x" + format(
        int(value("tls13:tcp.handshake.syn.seq")), "08x"
    )
    assert value("tls13:tls.client_random|count") == "32"
    assert value("tls13:tls.client_random|hex").count(" ") == 31
    assert value("tls13:tcp.handshake.rtt_ns|ms:1").endswith(" ms")
    assert value("tls13:tls.cipher_suite|name") == "TLS_AES_128_GCM_SHA256"


def test_values_from_the_manifest():
    assert value("manifest:client") == "192.0.2.10"
    assert value("manifest:tls13.claims.cipher_suite") == "TLS_AES_128_GCM_SHA256"
    assert value("manifest:recorded_with.openssl").startswith("OpenSSL")


def test_a_missing_connection_is_a_located_error():
    with pytest.raises(TlsdocError, match="no connection #9"):
        value_text(CONFIG, "tls13#9:tcp")


def test_dependencies_are_the_capture_its_key_log_the_manifest_and_the_ca():
    _text, deps = value_text(CONFIG, "tls13:tcp.handshake.syn.frame")
    assert {p.name for p in deps} == {"tls13.pcapng", "tls13.keys", "MANIFEST", "root-ca.pem"}
    _text, deps = value_text(CONFIG, "tls12-rsa@key:tcp.handshake.syn.frame")
    assert {p.name for p in deps} == {"tls12-rsa.pcapng", "www.example.com.DEMO-ONLY.key.pem",
                                      "MANIFEST", "root-ca.pem"}


def test_key_routes():
    """@keylog (default), @key (the demo server key), @none; the chain is checked against the demo root."""
    assert value("tls12-rsa@key:keys.source").startswith("RSA key ")
    assert value("tls12-rsa:keys.source").startswith("key log line")
    assert value("tls12-rsa@none:decrypted") == "no"
    assert value("tls12-rsa@key:decrypted") == "yes"
    assert value("tls12-ecdhe@key:decrypted") == "no"
    assert value("tls12-rsa:checks.chain.status") == "passed"
    assert value("tls12-rsa@key:checks.chain.status") == "passed"
    with pytest.raises(DocumentError, match="unknown key route @nope"):
        parse_reference("tls13@nope:tcp")


def test_named_steps_pick_the_first_entry_with_that_name():
    assert value("tls12-rsa:tls.server_messages.Certificate.name") == "Certificate"
    assert value("tls12-rsa:tls.server_messages.ServerHelloDone.frames.0") == value(
        "tls12-rsa:tls.server_messages.2.frames.0")
    with pytest.raises(DocumentError, match="no 'NoSuch' here .*ServerHello, Certificate"):
        value("tls12-rsa:tls.server_messages.NoSuch")


@pytest.mark.parametrize(
    "text, message",
    [
        ("nosuch:tcp", "no capture named 'nosuch'"),
        ("tls13:tcp.nosuch", "has no 'nosuch'"),
        ("tls13:tcp.frames.999", "out of range"),
        ("tls13:tcp.stream", "is a method"),
        ("tls13:tls.client_random", "is bytes"),
        ("tls13:tls.hello_retry_request", "is None"),
        ("tls13:tcp.handshake.syn|endpoint", "endpoint: expected"),
        ("tls13:tcp.handshake.syn.seq|count", "has no length"),
    ],
)
def test_unresolvable_references_say_why(text, message):
    with pytest.raises(DocumentError, match=message):
        value_text(CONFIG, text)


# -- building a tiny project --------------------------------------------------------


def build(tmp_path: Path, pages: dict[str, str], builder: str = "html",
          extensions: tuple[str, ...] = ()) -> tuple[Path, str]:
    """Build *pages* (MyST) with the extension; returns (outdir, warnings)."""
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor
    from sphinx.util.docutils import docutils_namespace

    nocolor()

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        textwrap.dedent(
            f"""
            extensions = ["myst_parser", "tlsdoc.sphinxext", *{list(extensions)!r}]
            tlsdoc_captures = {str(CAPTURES)!r}
            exclude_patterns = ["_build"]
            """
        )
    )
    toctree = "\n".join(name for name in pages if name != "index")
    (src / "index.md").write_text(f"# Index\n\n```{{toctree}}\n{toctree}\n```\n")
    for name, text in pages.items():
        (src / f"{name}.md").write_text(textwrap.dedent(text))
    warnings = io.StringIO()
    out = tmp_path / "out"
    with docutils_namespace():  # several apps in one process: keep docutils' registries apart
        app = Sphinx(str(src), str(src), str(out), str(tmp_path / "doctrees"), builder,
                     status=io.StringIO(), warning=warnings, freshenv=True)
        app.build()
    return out, warnings.getvalue()


def test_every_directive_builds(tmp_path):
    out, warnings = build(tmp_path, {"good": f"""
        # Good

        The SYN is frame {{tls}}`tls13:tcp.handshake.syn.frame`.

        ```{{tls-bytes}} tls13:tcp.handshake.syn
        ```

        ```{{tls-bytes}} tls13:records.client.records.0
        ```

        ```{{tls-table}} tls13:tcp.handshake
        :caption: The handshake
        ```

        ```{{tls-table}} tls13:tcp.handshake.syn.options
        ```

        ```{{tls-table}} manifest:
        ```

        ```{{tls-table}} tls13:records.server
        :caption: The server's records
        ```

        ```{{tls-ladder}} tls13
        :frames: 1-4
        ```

        ```{{tls-run}} tlsdoc show {CAPTURES / 'tls13.pcapng'}
        ```

        ```{{tls-cli-help}}
        ```

        ```{{tls-steps}} tls13:keys
        :caption: Where the keys came from
        ```
        """})
    assert warnings == ""
    html = (out / "good.html").read_text()
    assert 'The SYN is frame <span class="tlsdoc-value">1</span>' in html
    assert 'class="tlsdoc-piece tlsdoc-c0"' in html and 'class="tlsdoc-tip"' in html
    assert "<caption" in html and "The handshake" in html
    assert "TLS record 0 from the client" in html and "handshake (22)" in html
    assert 'src="data:image/svg+xml;base64,' in html
    assert 'class="tlsdoc-run' in html and "SYN-ACK #2" in html
    assert "usage: tlsdoc" in html
    assert "The server’s records" in html and "application_data" in html
    assert "Where the keys came from" in html
    assert "client_handshake_traffic_secret" in html and "HKDF-Expand-Label-SHA256" in html


def test_handshake_messages_and_encrypted_records(tmp_path):
    out, warnings = build(tmp_path, {"tls": """
        # TLS

        ```{tls-bytes} tls12-rsa:tls.client_hello
        :fields: legacy_version random extensions.server_name
        ```

        ```{tls-bytes} tls12-rsa:tls.server_messages.Certificate
        ```

        ```{tls-bytes} tls12-rsa@key:tls.client_messages.Finished
        ```

        ```{tls-record} tls12-rsa@key:tls.client_messages.Finished
        ```

        ```{tls-record} tls13:records.server.records.2
        :show: nonce plaintext
        ```

        ```{tls-bytes} tls12-rsa:decryption.server.records.1
        ```
        """})
    assert warnings == ""
    html = (out / "tls.html").read_text()
    assert "ClientHello from the client in record 0" in html
    assert "host_name www.example.com" in html
    assert "tlsdoc-gap" in html  # the groups left out, shortened
    assert "certificate 1" in html and "issued by tlsdoc Demo Root CA" in html
    assert "Finished from the client, decrypted from record 3" in html
    assert "nonce_explicit" in html and "salt ‖ nonce_explicit (RFC 5288 §3)" in html
    assert "write_iv XOR padded seq_num (RFC 8446 §5.3)" in html
    assert "the real content type: handshake (22)" in html
    assert "handshake: encrypted_extensions" in html
    assert "The decrypted content of record 5 from the server (frame 13), line by line" in html
    assert "status line" in html and "header Content-type" in html and "empty line" in html


def test_tls_tables_and_the_chain_check(tmp_path):
    out, warnings = build(tmp_path, {"tables": f"""
        # Tables

        ```{{tls-table}} tls12-rsa:tls.client_hello.cipher_suites
        ```

        ```{{tls-table}} tls12-rsa:tls.client_hello.extensions
        ```

        ```{{tls-table}} tls12-rsa:tls.server_messages.Certificate
        ```

        ```{{tls-table}} tls12-rsa:checks
        ```

        ```{{tls-table}} tls12-rsa:
        ```

        ```{{tls-check}} tls12-rsa
        :at: after-validity
        ```

        ```{{tls-check}} tls12-rsa
        :ca: {CAPTURES / 'pki' / 'intermediate-ca.pem'}
        :server-name: www.example.org
        ```
        """})
    assert warnings == ""
    html = (out / "tables.html").read_text()
    assert "TLS_RSA_WITH_AES_128_GCM_SHA256" in html and "✓" in html
    assert "host_name www.example.com" in html and "RFC 7627" in html
    assert "tlsdoc Demo Intermediate CA" in html and "RSA 2048 bits" in html
    assert "✓ passed" in html and "– not possible" in html
    assert "ServerHelloDone" in html and "from here on, this side encrypts" in html
    assert "cert is not valid at validation time" in html
    assert "no matching subjectAltName" in html


def test_filter_block(tmp_path):
    out, warnings = build(tmp_path, {"filter": """
        # Filter

        ```{tls-filter} tls12-rsa
        :filter: tls.handshake.type == 1
        :frames: tls12-rsa:tls.client_hello.span.frames
        ```

        ```{tls-filter} tls12-rsa
        :filter: tls.handshake.type == 20
        :frames: tls12-rsa:tls.client_messages.Finished.frames tls12-rsa:tls.server_messages.Finished.frames
        :keylog: yes
        ```

        ```{tls-filter} tls12-rsa
        :filter: tls
        :frames: tls12-rsa:tls.client_hello
        ```

        ```{tls-filter} tls13
        :filter: http.response
        :keylog: yes
        :prefs: http.desegment_body:FALSE
        :frames: tls13:decryption.server.records.5.frames
        ```

        ```{tls-filter} tls13
        :filter: http
        :prefs: http.desegment_body
        :frames: tls13:decryption.server.records.5.frames
        ```
        """})
    assert "filter.md:15: WARNING" in warnings and "expected frame numbers" in warnings
    assert "filter.md:29: WARNING" in warnings and "expected NAME:VALUE preferences" in warnings
    html = (out / "filter.html").read_text()
    assert "tls.handshake.type == 1" in html and "it selects frame 4." in html
    assert "it selects frames 10, 11. It needs the key log" in html
    assert ("It needs this preference: HTTP preferences, Reassemble HTTP bodies spanning multiple "
            "TCP segments: off (http.desegment_body:FALSE).") in html


def test_keylog_block(tmp_path):
    out, warnings = build(tmp_path, {"keys": """
        # Keys

        ```{tls-keylog} tls12-rsa
        ```

        ```{tls-keylog} tls13-resumption
        :show: table
        ```

        ```{tls-keylog} http
        ```
        """})
    assert "keys.md:11: WARNING" in warnings and "names no key log for http.pcapng" in warnings
    html = (out / "keys.html").read_text()
    _label, key, secret = (CAPTURES / "tls12-rsa.keys").read_text().split()[:3]
    assert f"RSA           {key[:8]}… {secret[:8]}…" in html  # the lines, shortened
    assert secret[8:16] not in html  # and only the start of each secret
    assert "encrypted premaster" in html and "the ClientKeyExchange, frame " in html
    assert "tls12-rsa.keys, the key log of tls12-rsa.pcapng: 2 lines" in html
    assert "the ClientHello of connection #0, frame" in html
    assert "the ClientHello of connection #1, frame" in html
    assert html.count("tlsdoc-keylog") == 1  # :show: table leaves out the lines


def test_failures_are_warnings_located_at_the_line(tmp_path):
    _out, warnings = build(tmp_path, {"bad": """
        # Bad

        A value: {tls}`tls13:tcp.nosuch`.

        ```{tls-table} tls13:tcp.handshake.syn.seq
        ```

        ```{tls-bytes} tls13:tcp
        ```

        ```{tls-ladder} nosuch
        ```

        ```{tls-run} tlsdoc show no-such-file.pcapng
        ```

        ```{tls-run} ls -l
        ```
        """})
    lines = [line for line in warnings.splitlines() if "WARNING" in line]
    located = {int(line.split("bad.md:")[1].split(":")[0]) for line in lines}
    assert located == {4, 6, 9, 12, 15, 18}, warnings
    assert all("[tlsdoc.reference]" in line for line in lines), warnings
    assert "has no 'nosuch'" in warnings
    assert "no table for a int" in warnings
    assert "no annotated bytes for a Connection" in warnings and "a TLS record" in warnings
    assert "no capture named 'nosuch'" in warnings
    assert "exited with status 2" in warnings
    assert "starts with 'tlsdoc'" in warnings


def test_latex_gets_a_table_and_a_converted_figure(tmp_path):
    require_tool("rsvg-convert")
    out, warnings = build(tmp_path, {"pdf": """
        # PDF

        ```{tls-bytes} tls13:tcp.handshake.ack
        ```

        ```{tls-ladder} tls13
        :frames: 1-3
        ```

        ```{tls-ladder} tls12-rsa
        :frames: 1-3
        :compact:
        ```
        """}, builder="latex", extensions=("sphinxcontrib.rsvgconverter",))
    assert warnings == ""
    (tex_file,) = out.glob("*.tex")
    tex = tex_file.read_text()
    # The coloured hex is for HTML only; LaTeX gets the field table, with set column widths.
    assert "tlsdoc-tip" not in tex and "tlsdoc-hex" not in tex
    assert "\\begin{tabular}[t]{\\X{1}{12}\\X{3}{12}\\X{3}{12}\\X{5}{12}}" in tex
    assert "timestamps" not in tex.lower() or "TIMESTAMPS" in tex
    # The ladder's data: URI was extracted to a file LaTeX can include.
    assert "\\sphinxincludegraphics" in tex and "data:image" not in tex
    # A compact ladder (one of a side-by-side pair in HTML) is drawn narrower in the PDF.
    assert tex.count("\\sphinxincludegraphics[width=0.600\\linewidth]") == 1, tex
    assert list(out.glob("*.pdf")), "rsvg-convert made no PDF of the ladder"


def test_extension_is_parallel_safe():
    app = NS(add_config_value=lambda *a, **k: None, add_role=lambda *a: None,
             add_directive=lambda *a: None, connect=lambda *a, **k: None,
             add_post_transform=lambda *a: None)
    meta = sphinxext.setup(app)
    assert meta["parallel_read_safe"] and meta["parallel_write_safe"]

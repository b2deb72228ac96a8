"""A big capture analysed by several processes gives exactly what one process gives.

``tlsdoc`` hands a capture of at least ``cli.PARALLEL_MIN_BYTES`` to worker
processes (``tlsdoc.shares``): each worker decodes, reassembles and analyses
the connections of its share, and the parent merges their events back into
one process's order (numbering the connections, placing the warnings).  Here the number of workers is forced (2 and 3)
on small captures that make warnings at every stage (a capture cut short,
lost and corrupted segments, data after a RST, a connection left open,
malformed TLS, plaintext HTTP, missing keys), and everything must be
byte for byte what one process writes: stdout, stderr and the exit status.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import pytest

import synth
from conftest import CAPTURES, ROOT

CORPUS = ROOT / "tests" / "corpus"
from tlsdoc import analysis, capture, cli, shares, tcp


def _damaged(tmp_path):
    """Many interleaved connections, with a warning from each stage somewhere."""
    packets = []

    def add(client, server, k, **kw):
        packets.extend(synth.synth_connection(client, server, client=("192.0.2.10", 40000 + k),
                                              start_ns=synth.T0_NS + k * 3_000_000, **kw))

    for k in range(12):
        add([b"\x16\x03\x01\x00\x05hello"], [b"\x16\x03\x03\x00\x02" + b"\x02\x00"], k)  # malformed TLS
    add([b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"], [b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"], 20)
    gap = synth.synth_connection([b"G" * 400], [b"g" * 900], mss=100, client=("192.0.2.10", 40021),
                                 start_ns=synth.T0_NS + 21 * 3_000_000)
    packets.extend(synth.drop(gap, synth.data_indices(gap, synth.SERVER)[2]))
    odd = synth.synth_connection([b"O" * 300], [b"o" * 300], mss=100, client=("192.0.2.10", 40022),
                                 start_ns=synth.T0_NS + 22 * 3_000_000)
    packets.extend(synth.resend(odd, ("192.0.2.10", 40022), 50, 120, corrupt=True))
    rst = synth.synth_connection([b"hello"], [b"world"], close="rst", client=("192.0.2.10", 40023),
                                 start_ns=synth.T0_NS + 23 * 3_000_000)
    late = rst[-2].replace(time_ns=rst[-1].time_ns + 1, payload=b"late!", seq=rst[-2].seq + 5)
    packets.extend(rst + [late])
    add([b"\x16\x03\x01\x00\x02ab"], [b"never closed"], 24, close=None)
    for k in range(25, 31):  # a malformed TCP option (length 1), whichever share it falls in
        bad = synth.synth_connection([b"x" * 10], [b"y" * 10], client=("192.0.2.10", 40000 + k),
                                     start_ns=synth.T0_NS + k * 3_000_000)
        i = synth.data_indices(bad)[0]
        bad[i] = bad[i].replace(options=b"\x08\x01\x00\x00")
        packets.extend(bad)
    packets.sort(key=lambda p: p.time_ns)
    data = synth.capture_bytes(packets)
    path = tmp_path / "damaged.pcap"
    path.write_bytes(data[:-7])  # the last frame cut short
    return path


def _run(capsys, monkeypatch, argv, workers):
    monkeypatch.setattr(cli, "_workers", lambda size, started=None: workers)
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


CASES = [
    ("damaged", None),
    ("multi-conn", "keys"),
    ("multi-conn", "half-keys"),
    ("tls13", "keys"),
]


@pytest.mark.parametrize("name,keys", CASES, ids=[f"{n}-{k}" for n, k in CASES])
@pytest.mark.parametrize("command", ["show", "decrypt", "verify"])
@pytest.mark.parametrize("json", [True, False], ids=["json", "text"])
def test_workers_write_what_one_process_writes(tmp_path, capsys, monkeypatch, name, keys, command, json):
    if name == "damaged":
        path = _damaged(tmp_path)
    else:
        path = (CORPUS if name == "multi-conn" else CAPTURES) / f"{name}.pcapng"
    argv = [command, str(path)]
    if keys:
        keylog = path.with_suffix(".keys")
        if keys == "half-keys":  # some connections' lines only: located "missing key" warnings
            lines = keylog.read_bytes().splitlines(keepends=True)
            keylog = tmp_path / "half.keys"
            keylog.write_bytes(b"".join(lines[: len(lines) // 2]))
        argv += ["--keylog", str(keylog)]
    if json:
        argv.append("--json")
    one = _run(capsys, monkeypatch, argv, 1)
    assert one[1]  # something was written
    for workers in (2, 3):
        assert _run(capsys, monkeypatch, argv, workers) == one
    # a big capture on a busy machine: the key material is read while the
    # CPUs are counted, then one process uses it
    monkeypatch.setattr(cli, "_workers", lambda size, started=None: 1 if started else 2)
    assert cli.main(argv) == one[0]
    assert capsys.readouterr() == one[1:]


@pytest.mark.parametrize("command", ["show", "decrypt"])
def test_workers_follow_one_process_when_connections_are_handed_out_early(tmp_path, capsys, monkeypatch, command):
    # Past MAX_WAITING waiting connections the earliest is handed out before
    # an older one completes; the merge of the shares replays the same rule.
    monkeypatch.setattr(analysis, "MAX_WAITING", 0)  # hand each out as it completes
    path = _damaged(tmp_path)
    one = _run(capsys, monkeypatch, [command, str(path)], 1)
    for workers in (2, 3):
        assert _run(capsys, monkeypatch, [command, str(path)], workers) == one
    single = analysis.iter_analyze(path)
    indexes = [c.index for c in single]
    assert indexes != sorted(indexes)  # the rule was used
    assert any("after the connection closed" in w for w in single.warnings)
    assert any("missing at offset" in w for w in single.warnings)
    assert any("file ends inside" in w for w in single.warnings)
    assert sum("frame skipped" in w for w in single.warnings) == 6


def test_shares_split_connections_not_directions():
    from tlsdoc import capture

    a, b = ("192.0.2.10", 40000), ("203.0.113.80", 443)
    for shares in (2, 3, 4):
        assert capture.share_of(*a, *b, shares) == capture.share_of(*b, *a, shares)
    counts = [0, 0]
    for port in range(40000, 40200):
        counts[capture.share_of("192.0.2.10", port, *b, 2)] += 1
    assert min(counts) > 50  # both workers get work


def test_index_marks_take_the_format_spec():
    from tlsdoc import shares

    token = shares.new_token()
    marked = shares.marked_index(token, 1)(7)
    merge = shares.ShareMerge(token, 2)
    merge._index[(1, 7)] = 12
    assert marked == 7 and marked % 2 == 1
    assert merge.resolve(f"#{marked} [{marked:>4}] {marked!s}") == "#12 [  12] 12"
    assert merge.resolve(f"#{shares.marked_index(shares.new_token(), 1)(7)}").startswith("#\u2045")  # another run's


def test_small_captures_use_one_process(monkeypatch):
    assert cli._workers(cli.PARALLEL_MIN_BYTES - 1) == 1
    assert cli._workers(cli.PARALLEL_MIN_BYTES - 1, cli._cpu_sample()) == 1
    monkeypatch.setattr(cli, "_idle_cpus", lambda cpus, started: 0.2)
    assert cli._workers(cli.PARALLEL_MIN_BYTES, cli._cpu_sample()) == 1  # a busy machine: no workers


@pytest.mark.parametrize("others, ours, expected", [(0, 10, 2.0), (20, 10, 1.0), (40, 0, 0.0), (0, 0, 2.0)])
def test_idle_cpus_count_this_process_as_idle(monkeypatch, others, ours, expected):
    # Two CPUs for 0.2 s: 40 ticks (at 100 per second).  The parent's own
    # CPU time (loading the key material) is time a worker will have.
    now = cli.time.monotonic()
    started = (now - 1.0, 1000, 4000, 5.0)
    later = (now, 1000 + 40 - others - ours, 4000 + 40, 5.0 + ours / 100)
    monkeypatch.setattr(cli, "_cpu_sample", lambda: later)
    monkeypatch.setattr(cli.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 2)
    assert cli._idle_cpus(2, started) == pytest.approx(expected)


def test_the_idle_cpu_count_waits_out_its_interval(monkeypatch):
    slept = []
    monkeypatch.setattr(cli.time, "sleep", slept.append)
    started = cli._cpu_sample()
    if started is None:
        pytest.skip("no /proc/stat here")
    cli._idle_cpus(2, started, interval=5.0)
    assert len(slept) == 1 and 4.0 < slept[0] <= 5.0
    slept.clear()
    cli._idle_cpus(2, started, interval=0.0)  # the key material took longer than the interval: no sleep
    assert slept == []


def _every_capture():
    for folder in (CAPTURES, CORPUS):
        for path in sorted(folder.glob("*.pcap*")):
            yield path


@pytest.mark.parametrize("path", list(_every_capture()), ids=lambda p: p.name)
def test_every_capture_gives_the_same_in_two_workers(capsys, monkeypatch, path):
    argv = ["decrypt", str(path)]
    keylog = path.with_suffix(".keys")
    if keylog.exists():
        argv += ["--keylog", str(keylog)]
    one = _run(capsys, monkeypatch, argv, 1)
    assert _run(capsys, monkeypatch, argv, 2) == one


def test_a_connection_is_in_one_share_however_its_frames_are_framed():
    # capture._decode's one-unpack path (untagged Ethernet, IPv4) and its
    # general path (VLAN tags, cooked captures, raw IP) must agree on the share.
    from tlsdoc import capture

    for port in range(40000, 40016):
        packets = synth.synth_connection([b"hello"], [b"world"], client=("192.0.2.10", port))
        for shares in (2, 3):
            owners = set()  # over both directions and every framing
            for p in packets:
                ip = synth.ip_bytes(p)
                for linktype, frame in [(1, synth.link_frame(ip, 1)), (1, synth.link_frame(ip, 1, vlans=[7])),
                                        (113, synth.link_frame(ip, 113)), (101, synth.link_frame(ip, 101))]:
                    owners.add(tuple(share for share in range(shares)
                                     if type(capture._decode(1, 0, linktype, frame, share, shares)) is capture.Segment))
            assert len(owners) == 1 and len(next(iter(owners))) == 1, owners


def test_jobs_option_chooses_the_workers_for_any_capture(capsys):
    path = str(CORPUS / "multi-conn.pcapng")
    keys = str(CORPUS / "multi-conn.keys")
    outputs = []
    for jobs in ("1", "2", "3"):
        code = cli.main(["decrypt", path, "--keylog", keys, "--jobs", jobs])
        outputs.append((code, *capsys.readouterr()))
    assert outputs[0][1] and outputs[0] == outputs[1] == outputs[2]
    for bad in ("0", "-1", "two", "65"):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["show", path, "--jobs", bad])
        assert exit_.value.code == cli.EXIT_USAGE
        assert "--jobs" in capsys.readouterr().err


def test_a_share_without_connections_still_says_how_far_it_has_read(monkeypatch):
    # Otherwise the parent would wait for it to reach the end of the file
    # before merging anything of the others (and they would stall on full pipes).
    from tlsdoc import capture, shares

    monkeypatch.setattr(capture, "SHARE_MARK_EVERY", 8)
    path = CAPTURES / "tls13.pcapng"  # one connection: one share has nothing
    token = shares.new_token()
    render = lambda c: ("", None, c.warnings)  # noqa: E731
    events = [list(shares.iter_share_events(path, k, 2, token, render)) for k in (0, 1)]
    idle = next(e for e in events if not any(kind in ("g", "f") for kind, *_ in e))
    marks = [key for kind, key, *_ in idle if kind == "m"]
    assert len(marks) >= 2 and marks == sorted(marks)


@pytest.mark.parametrize("batch", [1, 5, 1000])
def test_the_merge_alone_rebuilds_one_process_order(tmp_path, batch):
    # Without processes: the shares' events, handed over in batches of any
    # size and in any interleaving the merge asks for, give iter_analyze's
    # connections (numbered as it numbers them) and warnings.
    from tlsdoc import shares

    path = _damaged(tmp_path)
    single = analysis.iter_analyze(path)
    expected = [f"#{c.index} {c.tcp.client}" for c in single]
    render = lambda c: (f"#{c.index} {c.tcp.client}", None, c.warnings)  # noqa: E731
    for n in (2, 3):
        token = shares.new_token()
        streams = [iter(list(shares.iter_share_events(path, k, n, token, render))) for k in range(n)]
        merge = shares.ShareMerge(token, n)
        out = []
        while True:
            out.extend(r.text for r in merge.merged())
            k = merge.waiting_for()
            if k is None:
                break
            events = [e for _, e in zip(range(batch), streams[k])]
            merge.add(k, events) if events else merge.end(k)
        assert out == expected
        assert merge.warnings == single.warnings


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are set only on Linux (F_SETPIPE_SZ)")
def test_a_worker_can_send_a_megabyte_before_it_waits_for_the_parent():
    # The parent reads only from the worker the merge waits for; the other
    # one goes on until its pipe is full.  A pipe must take PIPE_BYTES with
    # nobody reading (Linux's default is 64 KiB).
    read_end, write_end = cli._roomy_pipe()
    try:
        os.set_blocking(write_end, False)
        sent = 0
        with pytest.raises(BlockingIOError):
            while sent <= cli.PIPE_BYTES:
                sent += os.write(write_end, b"\0" * 65536)
        assert sent >= cli.PIPE_BYTES
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.mark.parametrize("path", list(_every_capture()), ids=lambda p: p.name)
def test_a_workers_connection_copy_is_what_replace_gives(path):
    with capture.open_capture(path) as cap:
        reassembler = tcp.Reassembler(warn=lambda text: None)
        connections = [c for seg in cap.segments(warn=lambda text: None) for c in reassembler.feed(seg)]
        connections += list(reassembler.finish())
    assert connections
    marked = shares.marked_index("token", 1)
    for conn in connections:
        copy = shares._with_index(conn, marked(conn.index + 7))
        expected = dataclasses.replace(conn, index=marked(conn.index + 7))
        assert type(copy) is tcp.Connection
        assert copy == expected and f"{copy.index}" == f"{expected.index}"
        assert all(getattr(copy, f.name) is getattr(expected, f.name)
                   for f in dataclasses.fields(conn) if f.name != "index")

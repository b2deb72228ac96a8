"""The key log's compact form (an index in memory, the lines in a temporary file) answers as a plain table would.

``tlsdoc.keylog._Lines`` keeps 16 bytes per run of lines in memory and the
lines themselves in a ``_Store`` that spills to an unnamed temporary file;
lookups go through a fast path (``_firsts``, ``_entry``).  Each test here
compares that with the obvious answer computed from the lines themselves,
with the store forced to spill, runs cut short, few open runs and
fingerprints that collide, so that every path is taken on small inputs.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import random
import re
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsdoc import keylog as kl
from tlsdoc.errors import KeyMaterialError

LABELS = ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
          "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET")


def line(label: str, key: bytes, secret: bytes) -> bytes:
    return f"{label} {key.hex()} {secret.hex()}".encode()


@pytest.fixture
def tiny(monkeypatch):
    """Every path of _Lines/_Store on a small key log: spill at once, short runs, few open runs."""
    monkeypatch.setattr(kl, "_SPILL_BYTES", 300)
    monkeypatch.setattr(kl, "_BLOCK_BYTES", 256)
    monkeypatch.setattr(kl, "_RUN_BYTES", 150)
    monkeypatch.setattr(kl, "_OPEN_RUNS", 3)


@pytest.fixture
def colliding(monkeypatch):
    """Fingerprints that collide often: keys must be told apart by their bytes."""
    monkeypatch.setattr(kl, "_fingerprint", lambda key: key[0] % 4)


def interleaved_log(seed: int, connections: int = 40):
    """A key log whose connections interleave, with duplicates, conflicts, RSA lines and junk.

    Returns (data, lines) where lines are the (label, key, secret, line number,
    line offset) of the well-formed lines, in file order.
    """
    rng = random.Random(seed)
    randoms = [rng.randbytes(32) for _ in range(connections)]
    pending = {r: list(LABELS) for r in randoms}
    out, lines, offset = [], [], 0

    def emit(raw: bytes, parsed=None):
        nonlocal offset
        if parsed is not None:
            lines.append((*parsed, len(out) + 1, offset))
        out.append(raw)
        offset += len(raw) + 1

    emit(b"# keys")
    while pending:
        r = rng.choice(list(pending))
        label = pending[r].pop(0)
        if not pending[r]:
            del pending[r]
        secret = rng.randbytes(rng.choice((32, 48)))
        emit(line(label, r, secret), (label, r, secret))
        roll = rng.random()
        if roll < 0.05:  # the same line again
            emit(line(label, r, secret), (label, r, secret))
        elif roll < 0.10:  # a conflicting line
            other = rng.randbytes(32)
            emit(line(label, r, other), (label, r, other))
        elif roll < 0.13:
            emit(b"CLIENT_RANDOM zz")
        elif roll < 0.16:
            epms, premaster = rng.randbytes(8), rng.randbytes(48)
            emit(line("RSA", epms, premaster), ("RSA", epms, premaster))
    return b"\n".join(out) + b"\n", lines


def expected_warnings(lines, source: str) -> dict[int, str]:
    """line number -> the conflict warning the key log must give for it."""
    first, found = {}, {}
    for label, key, secret, number, offset in lines:
        earlier = first.setdefault((label, key), (number, secret))
        if earlier[1] != secret:
            found[number] = str(KeyMaterialError(
                f"{label} for {key.hex()} conflicts with line {earlier[0]}; keeping line {earlier[0]}",
                capture=source, offset=offset, field=f"line {number}"))
    return found


def check_against_lines(log: kl.KeyLog, lines) -> None:
    entries = [kl.KeyLogEntry(label=lb, key=k, secret=s, line=n) for lb, k, s, n, _ in lines]
    assert tuple(log.entries) == tuple(entries)
    assert len(log) == len(entries)
    first: dict = {}
    for e in entries:
        first.setdefault((e.label, e.key), e)
    keys = {e.key for e in entries}
    for key in keys:
        for label in (*LABELS, "RSA", "CLIENT_RANDOM"):
            assert log.entry(label, key) == first.get((label, key))
        # the fast path (_firsts) and the general one (_records) agree
        records = log._lines._records(key)
        firsts: dict = {}
        for label_id, number, _, secret in records:
            firsts.setdefault(log._lines.labels[label_id], (number, secret))
        assert log._lines._firsts(key) == firsts
        assert log.secrets_for(key) == {lb: e.secret for (lb, k), e in first.items() if k == key}
        # the one-lookup form session uses for TLS 1.3: what entry() gives, every label at once
        assert log.first_lines(key) == {lb: (e.line, e.secret)
                                         for (lb, k), e in first.items() if k == key}
        assert log.first_lines(bytearray(key)) == log.first_lines(key)
    assert log.entry(LABELS[0], bytes(32)) is None
    assert log.first_lines(bytes(32)) == {}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("settings", ["default", "tiny", "tiny+colliding"])
def test_interleaved_log_reads_back_exactly(request, seed, settings):
    for fixture in settings.split("+"):
        if fixture != "default":
            request.getfixturevalue(fixture)
    data, lines = interleaved_log(seed)
    log = kl.parse_keylog(data, source="mixed.keys", strict=False)
    check_against_lines(log, lines)
    conflicts = expected_warnings(lines, "mixed.keys")
    malformed = [w for w in log.warnings if "conflicts with" not in w]
    assert [w for w in log.warnings if w not in malformed] == [conflicts[n] for n in sorted(conflicts)]
    # every warning in line order, as when they were given line by line
    numbers = [int(w.split("(line ")[1].split(")")[0]) for w in log.warnings]
    assert numbers == sorted(numbers) and len(malformed) == data.count(b"CLIENT_RANDOM zz")


def test_spilled_and_in_memory_logs_are_equal(monkeypatch):
    data, _ = interleaved_log(7, connections=60)
    in_memory = kl.parse_keylog(data, source="k", strict=False)
    assert in_memory._lines._store._file is None
    monkeypatch.setattr(kl, "_SPILL_BYTES", 200)
    spilled = kl.parse_keylog(data, source="k", strict=False)
    assert spilled._lines._store._file is not None
    assert spilled == in_memory and hash(spilled) == hash(in_memory)
    assert spilled.warnings == in_memory.warnings
    assert spilled.client_randoms() == in_memory.client_randoms()


def test_pieces_and_whole_agree_when_spilled(tiny):
    data, lines = interleaved_log(3)
    pieces = [data[i : i + 97] for i in range(0, len(data), 97)]
    cut = kl.parse_keylog(iter(pieces), source="k", strict=False)
    whole = kl.parse_keylog(data, source="k", strict=False)
    assert cut == whole and cut.warnings == whole.warnings
    check_against_lines(cut, lines)


def test_a_spilled_log_pickles(tiny):
    data, lines = interleaved_log(4)
    log = kl.parse_keylog(data, source="k", strict=False)
    again = pickle.loads(pickle.dumps(log))
    assert again == log and again.warnings == log.warnings
    check_against_lines(again, lines)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_processes_read_a_spilled_log(tiny):
    # cli forks its workers after parsing: they share the temporary file
    data, lines = interleaved_log(5)
    log = kl.parse_keylog(data, source="k", strict=False)
    keys = list(dict.fromkeys(key for _, key, *_ in lines))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, in the reverse order of the parent
        try:
            os.close(read_end)
            answer = [log.entry(label, key) for key in reversed(keys) for label in LABELS]
            os.write(write_end, pickle.dumps(answer))
        finally:
            os._exit(0)
    os.close(write_end)
    mine = [log.entry(label, key) for key in keys for label in LABELS]
    with os.fdopen(read_end, "rb") as pipe:
        theirs = pickle.loads(pipe.read())
    os.waitpid(pid, 0)
    assert theirs == [log.entry(label, key) for key in reversed(keys) for label in LABELS]
    assert mine == [log.entry(label, key) for key in keys for label in LABELS]


def test_made_from_entries(tiny, colliding):
    data, lines = interleaved_log(6)
    log = kl.parse_keylog(data, source="k", strict=False)
    rebuilt = kl.KeyLog(source="k", entries=tuple(log.entries), warnings=log.warnings)
    assert rebuilt == log
    check_against_lines(rebuilt, lines)


def test_fast_entry_is_the_dataclass_value():
    made = kl._entry("CLIENT_RANDOM", bytes(32), bytes(48), 7)
    plain = kl.KeyLogEntry(label="CLIENT_RANDOM", key=bytes(32), secret=bytes(48), line=7)
    assert made == plain and hash(made) == hash(plain) and repr(made) == repr(plain)
    for f in dataclasses.fields(kl.KeyLogEntry):  # every field set (a new field needs _entry too)
        assert getattr(made, f.name) == getattr(plain, f.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.line = 8  # type: ignore[misc]


def test_memory_does_not_grow_with_the_key_log():
    # 20,000 TLS 1.3 connections: 100,000 lines, 9 MB of key log; what stays
    # in memory is the index (16 bytes per connection) and at most 1 MiB of
    # the store, not the ~70 bytes a line the packed table cost.
    rng = random.Random(1)
    data = b"".join(line(label, cr, rng.randbytes(32)) + b"\n"
                    for cr in (rng.randbytes(32) for _ in range(20_000)) for label in LABELS)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        log = kl.parse_keylog([data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20)])
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(log) == 100_000
    assert kept < (1 << 20) + 20_000 * 16 + 200_000, kept
    cr = data[32:96]
    assert log.entry(LABELS[0], bytes.fromhex(cr.decode())).line == 1


# -- the parser's fast path (split + fromhex) against the careful one (_parse_line) --

_hex = st.sampled_from([bytes(range(32)).hex(), bytes(range(48)).hex(), bytes(range(8)).hex(),
                        bytes(range(32)).hex().upper(), "ab", "abc", "zz" * 32, "é" * 4, ""])
_label = st.sampled_from(["CLIENT_RANDOM", "RSA", *LABELS, "ECH_SECRET", "X1_", "client_random", "1ABC"])
_sep = st.sampled_from([" ", "\t", "  \t ", "\x0b", "\x0c", "\x1c", "\r"])


@st.composite
def _lines(draw):
    fields = draw(st.lists(st.one_of(_label, _hex), min_size=0, max_size=4))
    if draw(st.booleans()) and len(fields) >= 3:
        fields[:3] = [draw(_label), draw(_hex), draw(_hex)]
    text = draw(st.sampled_from(["", " ", "\t"]))
    for f in fields:
        text += f + draw(_sep)
    return text.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.lists(_lines(), max_size=8), st.sampled_from([b"\n", b"\r\n"]))
def test_fast_and_careful_parsing_agree(monkeypatch_lines, newline):
    data = newline.join(monkeypatch_lines)
    fast = kl.parse_keylog(data, source="k", strict=False)
    saved = kl._KNOWN_LABELS, kl._LABEL_BYTES
    kl._KNOWN_LABELS, kl._LABEL_BYTES = {}, re.compile(rb"(?!)")  # no line passes the fast path
    try:
        careful = kl.parse_keylog(data, source="k", strict=False)
    finally:
        kl._KNOWN_LABELS, kl._LABEL_BYTES = saved
    assert tuple(fast.entries) == tuple(careful.entries)
    assert fast.warnings == careful.warnings


# -- the stretch path (_Parser.clean) and the line-by-line path give the same key log --------

_clean_label = st.sampled_from(["CLIENT_RANDOM", "RSA", *LABELS])


@st.composite
def _mostly_clean_log(draw):
    """A key log of connections whose lines come together, with a little of everything else."""
    keys = draw(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=4, unique=True))
    out = []
    for _ in range(draw(st.integers(1, 40))):
        roll = draw(st.integers(0, 19))
        key = draw(st.sampled_from(keys))
        label = draw(_clean_label)
        if label == "RSA":
            key = key[:8]
        secret = draw(st.binary(min_size=48, max_size=48) if label in ("RSA", "CLIENT_RANDOM")
                      else st.sampled_from([bytes(32), bytes(range(32)), bytes(48), b"\x01" * 32]))
        text = f"{label} {key.hex()} {secret.hex()}"
        if roll == 0:
            text = text.upper()  # upper-case hex digits: another group for the same key
        elif roll == 1:
            text = "# " + text
        elif roll == 2:
            text = ""
        elif roll == 3:
            text = text[:-1]  # an odd number of digits
        elif roll == 4:
            text = text.replace(" ", "\t  ", 1)
        elif roll == 5:
            text = text[:-2]  # a secret of the wrong length
        elif roll == 6:
            text = "ECH_SECRET" + text[text.index(" "):]
        elif roll == 7:
            text += " extra"
        elif roll == 8:
            text = text.replace(key.hex()[:2], "zz", 1)
        elif roll == 9:  # a key of the wrong length for the label
            text = f"{label} {(key * 4)[:32 if label == 'RSA' else 8].hex()} {secret.hex()}"
        out.append(text.encode() + draw(st.sampled_from([b"", b"\r", b" "])))
    data = b"\n".join(out) + draw(st.sampled_from([b"", b"\n"]))
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=4)))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]
    return data, pieces


def _parse_both(monkeypatch, pieces, strict):
    def parse():
        try:
            return kl.parse_keylog(iter(pieces), source="k", strict=strict)
        except KeyMaterialError as exc:
            return str(exc)

    with monkeypatch.context() as m:
        m.setattr(kl, "_CLEAN_LINES", 1)  # every stretch of well-formed lines tries the stretch path
        stretches = parse()
    with monkeypatch.context() as m:
        m.setattr(kl, "_CLEAN_LINES", 1 << 30)  # every line one by one
        lines = parse()
    return stretches, lines


@settings(max_examples=300, deadline=None)
@given(_mostly_clean_log(), st.sampled_from(["default", "tiny", "colliding"]), st.booleans(),
       st.sampled_from([1 << 20, 64, 300]))
def test_stretches_and_lines_give_the_same_key_log(log, setting, strict, feed_bytes):
    data, pieces = log
    with pytest.MonkeyPatch.context() as monkeypatch:
        if setting == "tiny":
            for name, value in (("_SPILL_BYTES", 300), ("_BLOCK_BYTES", 256), ("_RUN_BYTES", 150),
                                ("_OPEN_RUNS", 3), ("_GROUP_LINES", 2)):
                monkeypatch.setattr(kl, name, value)
        elif setting == "colliding":
            monkeypatch.setattr(kl, "_fingerprint", lambda key: key[0] % 4)
        monkeypatch.setattr(kl, "_FEED_BYTES", feed_bytes)
        stretches, lines = _parse_both(monkeypatch, pieces, strict)
        if isinstance(lines, str):  # strict: the same first error
            assert stretches == lines
            return
        assert tuple(stretches.entries) == tuple(lines.entries)
        assert stretches.warnings == lines.warnings
        for entry in lines.entries:
            assert stretches.first_lines(entry.key) == lines.first_lines(entry.key)
            assert stretches.entry(entry.label, entry.key) == lines.entry(entry.label, entry.key)
        # and both are what parsing the whole file at once gives
        whole = kl.parse_keylog(data, source="k", strict=False)
        assert tuple(whole.entries) == tuple(lines.entries) and whole.warnings == lines.warnings


def test_a_clean_key_log_takes_the_stretch_path(monkeypatch):
    """The benchmark's key log (lines of one connection together) is taken in stretches, not line by line."""
    rng = random.Random(5)
    data = b"".join(line(label, r, rng.randbytes(32)) + b"\n"
                    for r in (rng.randbytes(32) for _ in range(300)) for label in LABELS)
    taken = []
    monkeypatch.setattr(kl._Parser, "line", lambda self, raw, offset: taken.append(raw))
    log = kl.parse_keylog(data, source="k")
    # only line 1 (it may start with a byte-order mark) and the empty last one went line by line
    assert taken == [data[: data.index(b"\n")], b""]
    assert len(log) == 1499 and [e.line for e in log.entries] == list(range(2, 1501))


@pytest.mark.parametrize("data", [b"", b"# nothing\n\n", b"CLIENT_RANDOM zz\n", b"RSA " + b"ab" * 8 + b" " + b"cd" * 48])
def test_truth_is_having_entries(data):
    log = kl.parse_keylog(data, source="k", strict=False)
    assert bool(log) is (len(log) > 0) and bool(log) is bool(tuple(log.entries))
    rebuilt = kl.KeyLog(source="k", entries=tuple(log.entries))
    assert bool(rebuilt) is bool(log)

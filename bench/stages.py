"""Where the time goes: tlsdoc's cost per frame and per connection, stage by stage.

    python bench/stages.py bench/data/synth2-1000.pcap [--keylog bench/data/synth2-1000.keys]
    python bench/stages.py FILE --connections 2000 --repeat 5

``bench/run.py`` measures whole commands against tshark; this splits one
process's work along the data flow of DESIGN.md, so a change to one module
can be measured on its own stage:

* reading: pcap records only, then records decoded to TCP segments, then
  segments reassembled into connections (microseconds per frame);
* per connection (microseconds): record layer, handshake, and with a key
  log the keys, decryption and HTTP; then the whole ``_analyse_connection``
  and the JSON entry ``--json`` writes.

Each figure is the best of ``--repeat`` runs over the same connections,
with the garbage collector off while timing (it would charge one stage for
another's garbage), so the stages add up to less than a real run.  Figures
from a machine that is busy with other work are not worth comparing.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tlsdoc import analysis, capture, handshake, records, session, tcp  # noqa: E402
from tlsdoc.render import jsondoc  # noqa: E402
from tlsdoc.wire import Direction  # noqa: E402

_BOTH = (Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT)


def _quiet(_text: str) -> None:
    pass


def _best(repeat: int, run) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def _records(stream, d):
    return records.parse_records(stream.data, d, stream.frames_for, stream.chunk_table())


def _read(path: str, stage: str) -> int:
    with open(path, "rb") as f:
        if stage == "records":
            return sum(1 for _ in capture._records(f, path, _quiet))
        segments = capture.read_segments(f, name=path, warn=_quiet)
        if stage == "segments":
            return sum(1 for _ in segments)
        r = tcp.Reassembler(warn=_quiet, name=path)
        n = sum(len(r.feed(s)) for s in segments)
        return n + len(r.finish())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--keylog", help="NSS key log: also time keys, decryption and HTTP")
    ap.add_argument("--connections", type=int, default=1000,
                    help="connections timed per stage (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per stage; the best counts")
    args = ap.parse_args(argv)

    frames = _read(args.capture, "records")
    print(f"{args.capture}: {frames:,} frames")
    for stage, label in (("records", "pcap records"), ("segments", "+ TCP segments"),
                         ("connections", "+ reassembly")):
        seconds = _best(args.repeat, lambda stage=stage: _read(args.capture, stage))
        print(f"  {label:28s} {1e6 * seconds / frames:8.2f} µs/frame")

    r = tcp.Reassembler(warn=_quiet, name=args.capture)
    conns: list[tcp.Connection] = []
    with open(args.capture, "rb") as f:
        for s in capture.read_segments(f, name=args.capture, warn=_quiet):
            conns.extend(r.feed(s))
            if len(conns) >= args.connections:
                break
    conns = conns[: args.connections]
    n = len(conns)
    material = analysis.load_key_material(args.keylog, (), None, run_checks=False)

    streams = [{d: _records(c.stream(d), d) for d in _BOTH} for c in conns]
    views = [handshake.parse_handshake(s[_BOTH[0]], s[_BOTH[1]]) for s in streams]
    stages = {
        "record layer": lambda: [_records(c.stream(d), d) for c in conns for d in _BOTH],
        "handshake": lambda: [handshake.parse_handshake(s[_BOTH[0]], s[_BOTH[1]]) for s in streams],
    }
    if args.keylog:
        keys = [session.connection_keys(v, material.keylog) for v in views]
        opened = [session.decrypt_connection(v, s, k, keylog=material.keylog)
                  for v, s, k in zip(views, streams, keys)]
        apps = [{d: o.directions[d].application_data for d in _BOTH} for o in opened]
        stages["keys"] = lambda: [session.connection_keys(v, material.keylog) for v in views]
        stages["decryption"] = lambda: [session.decrypt_connection(v, s, k, keylog=material.keylog)
                                        for v, s, k in zip(views, streams, keys)]
        stages["HTTP"] = lambda: [analysis._http(c, a[_BOTH[0]].data if a[_BOTH[0]] else None,
                                                 a[_BOTH[1]].data if a[_BOTH[1]] else None, o.tls.alpn)
                                  for c, a, o in zip(conns, apps, opened)]
    results = [analysis._analyse_connection(c, args.capture, material) for c in conns]

    def whole() -> None:  # each result dropped, as a run drops it once written
        for c in conns:
            analysis._analyse_connection(c, args.capture, material)

    stages["= whole analysis"] = whole
    stages["JSON entry"] = lambda: [jsondoc.connection_json(a) for a in results]
    print(f"  per connection ({n:,} connections):")
    for label, run in stages.items():
        print(f"  {label:28s} {1e6 * _best(args.repeat, run) / n:8.1f} µs/connection")
    return 0


if __name__ == "__main__":
    sys.exit(main())

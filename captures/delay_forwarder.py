#!/usr/bin/env python3
"""A two-port Ethernet forwarder that delays every frame by a fixed time.

Stands in for ``tc netem`` (absent from the kernel the captures were recorded
on) so that round trips are visible in the bundled captures.  The recipe
(``captures/record.py``) runs it inside a middle network namespace that holds
one end of each of two veth pairs: client-ns <-> [PORT_A  middle  PORT_B] <->
server-ns.

Consumes Ethernet frames from two interfaces through ``AF_PACKET`` raw
sockets; produces the same frames, byte for byte (ARP included), on the other
interface ``--delay-ms`` later.  Both directions are FIFO queues with the same
delay, so frames are never reordered, duplicated or dropped on purpose.  It
does not learn, filter, or look inside frames, and it only ever writes to the
two interfaces it was given.

Prints ``ready`` on stdout once both sockets are bound; exits cleanly on
SIGTERM or SIGINT.  Needs root (CAP_NET_RAW) and Linux.  Pure stdlib; must
never import tlsdoc.
"""

from __future__ import annotations

import argparse
import collections
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4  # a frame this host sent: our own forwarding, never re-forward it
MAX_FRAME = 65536


def _open(ifname: str) -> socket.socket:
    # Protocol 0 first, so that nothing from other interfaces is queued
    # before bind() narrows the socket to ifname.
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.bind((ifname, ETH_P_ALL))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.setblocking(False)
    return sock


def forward(port_a: str, port_b: str, delay: float) -> None:
    """Forward between *port_a* and *port_b* until SIGTERM/SIGINT."""
    stop = False

    def _stop(_signum, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    a, b = _open(port_a), _open(port_b)
    peer = {a: b, b: a}
    # One FIFO per outgoing socket: (due time, frame).
    queues: dict[socket.socket, collections.deque] = {a: collections.deque(), b: collections.deque()}
    print("ready", flush=True)

    while not stop:
        now = time.monotonic()
        due = [q[0][0] for q in queues.values() if q]
        timeout = max(0.0, min(due) - now) if due else 0.5
        try:
            readable, _, _ = select.select([a, b], [], [], timeout)
        except InterruptedError:
            continue
        for sock in readable:
            while True:
                try:
                    frame, addr = sock.recvfrom(MAX_FRAME)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                queues[peer[sock]].append((time.monotonic() + delay, frame))
        now = time.monotonic()
        for out, queue in queues.items():
            while queue and queue[0][0] <= now:
                _, frame = queue.popleft()
                try:
                    out.send(frame)
                except OSError as exc:  # interface going away during clean-up
                    print(f"delay_forwarder: send failed: {exc}", file=sys.stderr)
    a.close()
    b.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port_a", help="first interface (e.g. the client-side veth)")
    parser.add_argument("port_b", help="second interface (e.g. the server-side veth)")
    parser.add_argument("--delay-ms", type=float, default=25.0, help="one-way delay (default 25)")
    args = parser.parse_args(argv)
    forward(args.port_a, args.port_b, args.delay_ms / 1000.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The python peer's parse_report (../shared/bench/peers/python/peer.py,
imported as it is) over several different reports in turn: the
counterpart of `bench.lua --distinct`.

usage: distinct.py PEER_PY ROUNDS FILE...
prints: python distinct reports_per_s=<x> mb_per_s=<y> checksum=<z>
"""
import importlib.util
import sys
import time


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    spec = importlib.util.spec_from_file_location("peer", sys.argv[1])
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    rounds = int(sys.argv[2])
    data = []
    for path in sys.argv[3:]:
        with open(path, "rb") as f:
            data.append(f.read())

    def one_round():
        total, size = 0, 0
        for d in data:
            report, json_len = peer.parse_report(d)
            total += peer.checksum(report)
            size += json_len
        return total, size

    want, json_len = one_round()  # warm-up, untimed
    t0 = time.perf_counter()
    for _ in range(rounds):
        if one_round()[0] != want:
            sys.exit("python: checksum changed between rounds")
    dt = time.perf_counter() - t0
    print(f"python distinct reports_per_s={rounds * len(data) / dt:.2f} "
          f"mb_per_s={json_len * rounds / dt / 1e6:.1f} checksum={want}")


if __name__ == "__main__":
    main()

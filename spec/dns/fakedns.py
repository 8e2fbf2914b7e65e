#!/usr/bin/env python3
"""Misbehaving DNS servers for the resolver tests, on 127.0.0.1 only.

    fakedns.py PORTFILE MODE...   one UDP socket per mode on a free port;
                                  writes "MODE PORT" lines to PORTFILE
    fakedns.py --free-port        prints a port free for UDP and TCP
    fakedns.py --probe PORT       exit 0 once 127.0.0.1:PORT answers a query

Modes: servfail (RCODE 2), ad (NOERROR with the AD bit and one TXT record
for TXT questions), silent (never answers), badid (answers with the wrong
ID), wrongq (right ID, another question), stray (a wrong-ID answer, then
the right one, without AD), garbage (right ID, then bytes that are no DNS
message), trunc (TC bit, no TCP listener behind it), tcphang (TC bit; the
TCP listener accepts and never answers), echo (a TXT record describing the
query: "rd=1 ad=1 cd=0 edns=1 do=1 udp=1232"), referral (NOERROR, no
answer, not authoritative, no recursion: an NS record for the name in the
authority section), badvers (NOERROR in the header, but an OPT record whose
extended RCODE makes it BADVERS, RFC 6891 §6.1.3). Exits by itself
after 10 minutes in case nobody kills it.
"""
import os
import select
import socket
import struct
import sys
import time

HOST = "127.0.0.1"
AD_TXT = b"v=TLSRPTv1; rua=mailto:ad@example.test"


def free_port():
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((HOST, 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind((HOST, port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise SystemExit("no free port")


def question_end(msg):
    """Offset just past the first question, or None."""
    i = 12
    while i < len(msg):
        n = msg[i]
        if n == 0:
            return i + 5 if i + 5 <= len(msg) else None
        if n & 0xC0:
            return None
        i += 1 + n
    return None


def answers(mode, q):
    """The datagrams to send back for query q."""
    if len(q) < 12:
        return []
    if mode == "stray":
        bad = answer("badid", q)
        return [bad, answer("plain", q)] if bad else []
    if mode == "wrongq":
        other = bytearray(q)
        end = question_end(q)
        if end is None or end - 5 <= 12:
            return []
        # another first letter: another name (case alone would still match)
        other[13] = ord("z") if other[13] not in (ord("z"), ord("Z")) else ord("y")
        return [answer("plain", bytes(other))]
    a = answer(mode, q)
    return [a] if a else []


def describe(q, end):
    """The query's flags and EDNS0 OPT record (RFC 6891 §6.1.3) as text."""
    flags = struct.unpack("!H", q[2:4])[0]
    arcount = struct.unpack("!H", q[10:12])[0]
    edns, do, udp = 0, 0, 0
    # With one question and no answers, the additional section follows it;
    # the OPT owner is the root (one zero byte).
    if arcount == 1 and len(q) >= end + 11 and q[end] == 0:
        rtype, rclass, ttl = struct.unpack("!HHI", q[end + 1:end + 9])
        if rtype == 41:
            edns, udp, do = 1, rclass, (ttl >> 15) & 1
    return ("rd=%d ad=%d cd=%d edns=%d do=%d udp=%d" % (
        (flags >> 8) & 1, (flags >> 5) & 1, (flags >> 4) & 1, edns, do, udp)).encode()


def answer(mode, q):
    if len(q) < 12:
        return None
    qid, qflags = struct.unpack("!HH", q[:4])
    end = question_end(q)
    if end is None:
        return None
    question = q[12:end]
    qtype = struct.unpack("!H", q[end - 4:end - 2])[0]
    flags = 0x8000 | (qflags & 0x7900) | 0x0080  # QR, opcode, RD, RA
    an = b""
    ancount = 0
    if mode == "servfail":
        flags |= 2
    elif mode in ("ad", "plain", "echo"):
        if mode == "ad":
            flags |= 0x0020
        if qtype == 16:
            txt = describe(q, end) if mode == "echo" else AD_TXT
            rdata = bytes([len(txt)]) + txt
            an = struct.pack("!HHHIH", 0xC00C, 16, 1, 300, len(rdata)) + rdata
            ancount = 1
    elif mode == "badid":
        qid = (qid + 1) & 0xFFFF
    elif mode == "garbage":
        # our ID and a header promising a question and an answer, then nothing
        return q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07exa"
    elif mode in ("trunc", "tcphang"):
        flags |= 0x0200
    elif mode == "referral":
        flags &= ~0x0080  # no RA
        ns = b"\x02ns\x07example\x00"
        auth = struct.pack("!HHHIH", 0xC00C, 2, 1, 300, len(ns)) + ns
        return struct.pack("!HHHHHH", qid, flags, 1, 0, 1, 0) + question + auth
    elif mode == "badvers":
        # OPT: root owner, type 41, class 1232 (UDP size), TTL: extended RCODE 1
        opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 1 << 24, 0)
        return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 1) + question + opt
    return struct.pack("!HHHHHH", qid, flags, 1, ancount, 0, 0) + question + an


def probe(port):
    """True if a DNS server on HOST:port answers an SOA query within 0.5 s."""
    q = struct.pack("!HHHHHH", 0x1234, 0, 1, 0, 0, 0)
    q += b"\x07example\x04test\x00" + struct.pack("!HH", 6, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        s.sendto(q, (HOST, port))
        r = s.recv(65535)
        return len(r) >= 12 and r[:2] == q[:2]
    except OSError:
        return False
    finally:
        s.close()


def main():
    if sys.argv[1:] == ["--free-port"]:
        print(free_port())
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--probe":
        sys.exit(0 if probe(int(sys.argv[2])) else 1)
    portfile, modes = sys.argv[1], sys.argv[2:]
    socks = {}
    listeners = []
    held = []
    lines = []
    for mode in modes:
        if mode == "tcphang":
            port = free_port()
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((HOST, port))
            t.listen(8)
            listeners.append(t)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((HOST, port))
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((HOST, 0))
        socks[s] = mode
        lines.append("%s %d\n" % (mode, s.getsockname()[1]))
    with open(portfile + ".tmp", "w") as f:
        f.writelines(lines)
    os.rename(portfile + ".tmp", portfile)
    deadline = time.time() + 600
    while time.time() < deadline:
        ready, _, _ = select.select(list(socks) + listeners, [], [], 1.0)
        for s in ready:
            if s in listeners:
                held.append(s.accept()[0])  # kept open, never answered
                continue
            q, peer = s.recvfrom(65535)
            if socks[s] == "silent":
                continue
            for r in answers(socks[s], q):
                s.sendto(r, peer)


if __name__ == "__main__":
    main()

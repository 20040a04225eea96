#!/usr/bin/env python3
"""Sends a real client QUIC Initial (the first UDP datagram to port 443 in
a capture) from a connected UDP socket, and reports how the socket ends:

    quic_send.py PCAP HOST PORT [WAIT_S]

Prints "error <errno name> <ms>" when the socket hears an ICMP error (the
gateway's "unreachable"), "reply <ms>" when a datagram comes back, or
"silence <ms>" when nothing happens within WAIT_S (default 2)."""
import errno
import socket
import struct
import sys
import time


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        sys.exit("quic_send.py: %s is not a classic pcap" % path)
    link = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        yield link, data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def l3(link, frame):
    if link == 1:  # Ethernet, maybe one VLAN tag
        etype = struct.unpack(">H", frame[12:14])[0]
        off = 14
        if etype == 0x8100:
            off = 18
        return frame[off:]
    if link == 113:  # Linux cooked
        return frame[16:]
    if link in (101, 228, 229):  # raw IP
        return frame
    return b""


def udp_payload(ip):
    if not ip:
        return None
    v = ip[0] >> 4
    if v == 4:
        hl = (ip[0] & 15) * 4
        if ip[9] != 17:
            return None
        udp = ip[hl:]
    elif v == 6:
        if ip[6] != 17:
            return None
        udp = ip[40:]
    else:
        return None
    dport = struct.unpack(">H", udp[2:4])[0]
    return udp[8:] if dport == 443 else None


def main():
    path, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    wait = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
    payload = None
    for link, fr in frames(path):
        p = udp_payload(l3(link, fr))
        if p and len(p) >= 1200 and p[0] & 0x80:
            payload = p
            break
    if payload is None:
        sys.exit("quic_send.py: no QUIC Initial to port 443 in %s" % path)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((host, port))
    s.settimeout(wait)
    t0 = time.monotonic()
    s.send(payload)
    try:
        s.recv(2048)
        print("reply %d" % ((time.monotonic() - t0) * 1000))
    except socket.timeout:
        print("silence %d" % ((time.monotonic() - t0) * 1000))
    except OSError as e:
        print("error %s %d" % (errno.errorcode.get(e.errno, str(e.errno)),
                               (time.monotonic() - t0) * 1000))


main()

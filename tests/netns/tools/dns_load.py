#!/usr/bin/env python3
"""Sends DNS queries for NAME to SERVER at RATE per second for SECONDS
(or until killed), from one socket, and counts the answers:

    dns_load.py SERVER NAME RATE SECONDS

Prints "sent N answered M last_answer_ms T" (T: wall-clock ms of the last
answer) when done or on SIGTERM."""
import select
import signal
import socket
import struct
import sys
import time


def query(qid, name):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)


def main():
    server, name = sys.argv[1], sys.argv[2]
    rate, seconds = float(sys.argv[3]), float(sys.argv[4])
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((server, 53))
    s.setblocking(False)
    sent = answered = 0
    last = 0
    done = False

    def stop(*_):
        nonlocal done
        done = True
    signal.signal(signal.SIGTERM, stop)
    t0 = time.monotonic()
    while not done and time.monotonic() - t0 < seconds:
        due = int((time.monotonic() - t0) * rate)
        while sent < due:
            try:
                s.send(query(sent & 0xFFFF, name))
            except OSError:
                pass
            sent += 1
        r, _, _ = select.select([s], [], [], 0.002)
        while r:
            try:
                s.recv(2048)
                answered += 1
                last = int(time.time() * 1000)
            except BlockingIOError:
                break
            except OSError:
                break
    print("sent %d answered %d last_answer_ms %d" % (sent, answered, last))


main()

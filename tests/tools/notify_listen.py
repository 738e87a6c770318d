#!/usr/bin/env python3
"""notify_listen.py SOCKET LOG - plays systemd's side of the sd_notify
protocol for the daemon test: binds a datagram socket at SOCKET and appends
every message it receives to LOG, one line per field. Test code, not a
systemd; it only records what sluice sends."""
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
while True:
    msg = s.recv(4096).decode("utf-8", "replace")
    with open(log, "a") as f:
        for line in msg.split("\n"):
            f.write(line + "\n")

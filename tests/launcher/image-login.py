#!/usr/bin/env python3
"""image-login.py SOCKET TIMEOUT - drive the image's serial console (t-image.sh).

Waits for the self-check's "@@IMG result=" line and the getty's prompt,
logs in as root (no password: a test image), proves the shell is root's,
powers the guest off from it and waits until it is down. Exit 0 when
all of that happened.
Python standard library only.
"""
import socket
import sys
import time


def main(path, timeout):
    deadline = time.time() + timeout
    sock = None
    while sock is None:
        try:
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(path)
        except OSError:
            sock = None
            if time.time() > deadline:
                sys.exit("cannot connect to the console at %s" % path)
            time.sleep(0.5)
    seen = bytearray()

    def wait(pat, start=0):
        """Index just past PAT in what the console said from START on."""
        while True:
            i = seen.find(pat, start)
            if i >= 0:
                return i + len(pat)
            left = deadline - time.time()
            if left <= 0:
                sys.exit("timeout waiting for %r on the console" % pat)
            sock.settimeout(left)
            try:
                data = sock.recv(4096)
            except socket.timeout:
                continue
            if not data:
                sys.exit("the console closed waiting for %r" % pat)
            seen.extend(data)

    wait(b"@@IMG result=")
    wait(b"login: ")
    mark = len(seen)
    sock.sendall(b"root\r")
    wait(b"# ", mark)
    mark = len(seen)
    sock.sendall(b"echo @@LOGIN user=$(id -un) tty=$(tty)\r")
    end = wait(b"@@LOGIN user=root", mark)
    eol = wait(b"\n", end)
    line = bytes(seen[end:eol]).decode(errors="replace").strip()
    print("root logged in on the console (%s)" % line)
    # stay connected until the guest is down: QEMU drops what the UART has
    # not taken yet when the client goes away
    mark = len(seen)
    sock.sendall(b"systemctl poweroff\r")
    wait(b"reboot: Power down", mark)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], float(sys.argv[2])))

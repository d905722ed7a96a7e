#!/usr/bin/env python3
"""qmp.py - a small QMP client (Python standard library only).

    qmp.py SOCKET stats [ID]            apple-dma-pci stats, "name value" lines
    qmp.py SOCKET qom-get PATH PROP     any property, as JSON
    qmp.py SOCKET quit                  stop the VM

As a module: Qmp(path).cmd("qom-get", path=..., property=...).
"""
import json
import socket
import sys
import time


class QmpError(Exception):
    pass


class Qmp:
    """One QMP session on a unix socket; commands run one at a time."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError) as e:
                if time.monotonic() > deadline:
                    raise QmpError("cannot connect to %s: %s" % (path, e))
                time.sleep(0.1)
        self.buf = b""
        greeting = self._read()
        if "QMP" not in greeting:
            raise QmpError("not a QMP greeting: %r" % greeting)
        self.cmd("qmp_capabilities")

    def _read(self):
        """The next message that is not an asynchronous event."""
        while True:
            while b"\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise QmpError("QMP connection closed")
                self.buf += data
            line, self.buf = self.buf.split(b"\n", 1)
            if not line.strip():
                continue
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, name, **args):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        reply = self._read()
        if "error" in reply:
            raise QmpError("%s: %s" % (name, reply["error"].get("desc", reply)))
        return reply.get("return")

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def adma_stats(sock_path, dev_id="adma0", timeout=10.0):
    """The host-side stats dict of apple-dma-pci DEV_ID."""
    with Qmp(sock_path, timeout) as q:
        stats = q.cmd("qom-get", path="/machine/peripheral/" + dev_id,
                      property="stats")
    if not isinstance(stats, dict):
        raise QmpError("stats of %s is not a dict: %r" % (dev_id, stats))
    return stats


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    sock, what = argv[1], argv[2]
    try:
        if what == "stats" and len(argv) <= 4:
            stats = adma_stats(sock, argv[3] if len(argv) == 4 else "adma0")
            width = max(len(k) for k in stats) if stats else 0
            for k in sorted(stats):
                print("%-*s %s" % (width, k, stats[k]))
        elif what == "qom-get" and len(argv) == 5:
            with Qmp(sock) as q:
                print(json.dumps(q.cmd("qom-get", path=argv[3],
                                       property=argv[4]), indent=1))
        elif what == "quit" and len(argv) == 3:
            with Qmp(sock) as q:
                q.cmd("quit")
        else:
            sys.exit(__doc__)
    except (QmpError, OSError) as e:
        sys.exit("qmp.py: %s" % e)


if __name__ == "__main__":
    main(sys.argv)

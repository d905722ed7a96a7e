#!/usr/bin/env python3
"""mkcpio.py OUT DIR [NODE...] - write DIR as an initramfs ("newc" cpio).

Every entry is owned by root with mtime 0, so the archive depends only on
the contents. NODE adds a device node without needing root to mknod it:
  path:c|b:major:minor[:mode]     e.g. dev/console:c:5:1:600
Python standard library only.
"""
import os
import stat
import sys


def header(ino, mode, nlink, size, rdev, name):
    namesize = len(name) + 1
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0,
              os.major(rdev), os.minor(rdev), namesize, 0]
    h = b"070701" + b"".join(b"%08x" % f for f in fields)
    h += name + b"\0"
    return h + b"\0" * (-len(h) % 4)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, top, nodes = sys.argv[1], sys.argv[2], sys.argv[3:]
    entries = []   # (name, mode, data, rdev)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        rel = os.path.relpath(dirpath, top)
        for name in sorted(dirnames) + sorted(filenames):
            path = os.path.join(dirpath, name)
            arc = os.path.normpath(os.path.join(rel, name))
            st = os.lstat(path)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                entries.append((arc, stat.S_IFDIR | perm, b"", 0))
            elif stat.S_ISLNK(st.st_mode):
                entries.append((arc, stat.S_IFLNK | 0o777,
                                os.readlink(path).encode(), 0))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    entries.append((arc, stat.S_IFREG | perm, f.read(), 0))
            else:
                sys.exit("mkcpio.py: cannot store %s" % path)
    for spec in nodes:
        parts = spec.split(":")
        if len(parts) not in (4, 5) or parts[1] not in ("c", "b"):
            sys.exit("mkcpio.py: bad node %r" % spec)
        kind = stat.S_IFCHR if parts[1] == "c" else stat.S_IFBLK
        perm = int(parts[4], 8) if len(parts) == 5 else 0o600
        entries.append((parts[0], kind | perm, b"",
                        os.makedev(int(parts[2]), int(parts[3]))))
    with open(out + ".tmp", "wb") as f:
        for ino, (arc, mode, data, rdev) in enumerate(entries, start=1):
            nlink = 2 if stat.S_ISDIR(mode) else 1
            f.write(header(ino, mode, nlink, len(data), rdev, arc.encode()))
            f.write(data + b"\0" * (-len(data) % 4))
        f.write(header(0, 0, 1, 0, 0, b"TRAILER!!!"))
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()

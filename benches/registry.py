#!/usr/bin/env python3
"""Generate a large eka registry fast, with git plumbing (no `eka publish`).

Usage: benches/registry.py SHAPE N DIR
  SHAPE flat:  N versions spread over labels of 20 versions each (`l0000`…), no deps;
  SHAPE chain: N atoms `c0000` … each `1.0.0`, `c<i>` requiring `c<i+1>` (`::`);
  SHAPE fan:   `root` 1.0.0 requiring N atoms `d0000` … (`::`), each `1.0.0`.
DIR is created as a bare repository (a file `DIR/.complete-v2` marks a finished one, so a
later run reuses it). Every atom commit is a canonical format-1 atom commit (fixed
author, headers in order) over a tree holding its `atom.toml`, with that tree's real
BLAKE3 content hash (format v1, `docs/format.md`; eka checks it before it locks an
atom); its manifest blob, atom ref, manifest ref and origin ref are written as
`eka publish` would. Needs the `blake3` Python package (`pip install blake3`).
"""

import hashlib
import os
import struct
import subprocess
import sys
import zlib

import blake3

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
AUTHOR = "eka <eka@eka.invalid> 0 +0000"


def write_object(objects, kind, data):
    header = f"{kind} {len(data)}\0".encode()
    oid = hashlib.sha1(header + data).hexdigest()
    path = os.path.join(objects, oid[:2], oid[2:])
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(zlib.compress(header + data, 1))
    return oid


def content_hash_of_manifest_tree(manifest_bytes):
    """The content hash of a tree holding one regular file, `atom.toml`."""
    blob = blake3.blake3(manifest_bytes, derive_key_context="eka 2026-11 content hash v1 blob")
    name = b"atom.toml"
    encoding = struct.pack("<Q", 1) + b"\x01" + struct.pack("<Q", len(name)) + name
    encoding += blob.digest()
    tree = blake3.blake3(encoding, derive_key_context="eka 2026-11 content hash v1 tree")
    return "blake3:" + tree.hexdigest()


def atoms(shape, n):
    """Yield (label, version, deps) per atom."""
    if shape == "flat":
        for i in range(n):
            yield f"l{i // 20:04d}", f"1.{i % 20}.0", []
    elif shape == "chain":
        for i in range(n):
            yield f"c{i:04d}", "1.0.0", [f"c{i + 1:04d}"] if i + 1 < n else []
    elif shape == "fan":
        yield "root", "1.0.0", [f"d{i:04d}" for i in range(n)]
        for i in range(n):
            yield f"d{i:04d}", "1.0.0", []
    else:
        sys.exit(f"unknown shape {shape}")


def manifest(label, version, deps):
    text = f'[package]\nlabel = "{label}"\nversion = "{version}"\n'
    if deps:
        text += '\n[package.sets]\nhere = "::"\n\n[deps.from.here]\n'
        text += "".join(f'{dep} = "^1"\n' for dep in deps)
    return text.encode()


def main():
    shape, n, repo = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if os.path.exists(os.path.join(repo, ".complete-v2")):
        return
    subprocess.run(["rm", "-rf", repo], check=True)
    subprocess.run(["git", "init", "-q", "--bare", repo], check=True)
    subprocess.run(["git", "-C", repo, "config", "uploadpack.allowFilter", "true"], check=True)
    objects = os.path.join(repo, "objects")
    write_object(objects, "tree", b"")
    root = write_object(
        objects,
        "commit",
        f"tree {EMPTY_TREE}\nauthor {AUTHOR}\ncommitter {AUTHOR}\n\nroot\n".encode(),
    )
    updates = [f"create refs/heads/main {root}\n"]
    for label, version, deps in atoms(shape, n):
        text = manifest(label, version, deps)
        blob = write_object(objects, "blob", text)
        tree = write_object(objects, "tree", b"100644 atom.toml\0" + bytes.fromhex(blob))
        content = content_hash_of_manifest_tree(text)
        headers = [
            ("eka-format", "1"),
            ("eka-set", root),
            ("eka-label", label),
            ("eka-version", version),
            ("eka-origin", root),
            ("eka-path", label),
            ("eka-content", content),
        ]
        body = f"tree {tree}\nauthor {AUTHOR}\ncommitter {AUTHOR}\n"
        body += "".join(f"{name} {value}\n" for name, value in headers)
        body += f"\neka atom {label}@{version}\n"
        commit = write_object(objects, "commit", body.encode())
        updates.append(f"create refs/eka/atoms/{label}/{version} {commit}\n")
        updates.append(f"create refs/eka/meta/{label}/{version}/manifest {blob}\n")
        updates.append(f"create refs/eka/meta/{label}/{version}/origin {root}\n")
    subprocess.run(
        ["git", "-C", repo, "update-ref", "--stdin"], input="".join(updates).encode(), check=True
    )
    subprocess.run(["git", "-C", repo, "pack-refs", "--all"], check=True)
    subprocess.run(["git", "-C", repo, "repack", "-adq"], check=True)
    subprocess.run(["git", "-C", repo, "prune-packed"], check=True)
    open(os.path.join(repo, ".complete-v2"), "w").close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks that the workspace's `rust-version` is true: no locked dependency
that the workspace's crates build with (normal and build dependencies,
transitively) declares a newer `rust-version` than ours.

    python3 tools/check_rust_version.py        (exit 1 and a list if false)

Reads `cargo metadata --locked` (offline once the registry is fetched);
Python 3 standard library only.
"""
import json
import subprocess
import sys


def version_tuple(v):
    parts = [int(x) for x in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    packages = {p["id"]: p for p in meta["packages"]}
    members = meta["workspace_members"]
    ours = {packages[m]["name"]: packages[m].get("rust_version") for m in members}
    declared = set(v for v in ours.values() if v)
    if len(declared) != 1 or None in ours.values():
        print(f"every workspace crate must declare the same rust-version: {ours}")
        return 1
    msrv = declared.pop()
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    # Walk normal and build dependencies from every member (dev-dependencies
    # build only our tests and benches).
    seen, stack = set(), list(members)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if kinds & {None, "build"}:
                stack.append(dep["pkg"])
    too_new = []
    newest = ("0", "")
    for pid in seen:
        p = packages[pid]
        rv = p.get("rust_version")
        if rv and version_tuple(rv) > version_tuple(newest[0]):
            newest = (rv, f"{p['name']} {p['version']}")
        if rv and version_tuple(rv) > version_tuple(msrv):
            too_new.append(f"{p['name']} {p['version']} needs {rv}")
    if too_new:
        print(f"rust-version = \"{msrv}\" is false; locked dependencies need more:")
        for t in sorted(too_new):
            print(f"  {t}")
        return 1
    print(
        f"rust-version {msrv} holds for {len(seen)} crates "
        f"(the newest requirement: {newest[1]} needs {newest[0]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

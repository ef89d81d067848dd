"""The repository stands on its own: nothing in it reads a file outside its tree."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Top-level folders a path may name: the system's own, and the container's working folders.
SYSTEM = {"usr", "etc", "dev", "proc", "sys", "bin", "tmp", "var", "opt", "run", "app", "src", "lib"}
CHECKED = ["*.py", "*.toml", "*.cfg", "*.yml", "*.yaml", "Makefile", ".ci"]
QUOTED_PATH = re.compile(r"[\"'](/([A-Za-z0-9._-]+)/[^\"']*)")


def outside_paths(text: str, is_dir=os.path.isdir) -> list[str]:
    """Quoted absolute paths in ``text`` whose first folder exists here and is not a system folder."""
    return [
        match.group(1)
        for match in QUOTED_PATH.finditer(text)
        if match.group(2) not in SYSTEM and is_dir("/" + match.group(2))
    ]


def test_the_check_finds_a_path_outside_the_repo():
    text = 'FIXTURES = Path("/nowhere/shared/fixtures")  # but "/usr/bin/chromium" is the system\'s'
    assert outside_paths(text, is_dir=lambda path: True) == ["/nowhere/shared/fixtures"]
    assert outside_paths(text, is_dir=lambda path: False) == []


def test_no_tracked_file_names_a_path_outside_the_repo():
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", *CHECKED], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    names = [name for name in listed.split("\0") if name]
    assert names, "git ls-files listed nothing: is this a git checkout?"
    found = [
        f"{name}:{number}: {path}"
        for name in names
        if (ROOT / name).is_file()
        for number, line in enumerate((ROOT / name).read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        for path in outside_paths(line)
    ]
    assert found == []

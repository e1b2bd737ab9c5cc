#!/usr/bin/env python3
"""Checks that every #include in src/ points at its own folder or a layer below it.

The layers are read from docs/ARCHITECTURE.md (the block between the `layers:begin` and
`layers:end` markers), top layer first, one line per level, folders before any `|`; folders on
one line sit side by side and may not include each other. Every folder of src/ must appear there, so a new folder is placed
on purpose. Exit status 1 lists every offending include as file:line.
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([A-Za-z0-9_]+)/')


def read_levels(architecture: pathlib.Path) -> dict[str, int]:
    text = architecture.read_text()
    match = re.search(r'layers:begin[^\n]*\n(.*?)\n[^\n]*layers:end', text, re.S)
    if not match:
        sys.exit(f'{architecture}: no layers:begin ... layers:end block')
    lines = [line.split('|')[0].split() for line in match.group(1).splitlines()]
    lines = [folders for folders in lines if folders and not folders[0].startswith('`')]
    levels = {}
    for height, folders in enumerate(reversed(lines)):
        for folder in folders:
            levels[folder.strip('/').removeprefix('src/')] = height
    return levels


def violations(src: pathlib.Path, levels: dict[str, int]) -> list[str]:
    found = []
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        if folder.name not in levels:
            found.append(f'{folder}: folder not placed in the layers of docs/ARCHITECTURE.md')
            continue
        for path in sorted(folder.rglob('*')):
            if path.suffix not in ('.h', '.cc'):
                continue
            for number, line in enumerate(path.read_text(errors='replace').splitlines(), 1):
                match = INCLUDE.match(line)
                if not match or match.group(1) not in levels:
                    continue  # A system or third-party header.
                target = match.group(1)
                if target != folder.name and levels[target] >= levels[folder.name]:
                    found.append(f'{path}:{number}: {folder.name} includes {target}/, which is '
                                 f'not below it')
    return found


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else '.')
    levels = read_levels(root / 'docs' / 'ARCHITECTURE.md')
    found = violations(root / 'src', levels)
    for line in found:
        print(line)
    print(f'{len(found)} layering violation(s) in {root / "src"}')
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())

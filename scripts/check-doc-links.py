#!/usr/bin/env python3
"""Check that the documentation points at things that exist.

Scanned: every Markdown file under docs/ (recursively), README.md, and the crate docs
(the `//!` lines) of every lib.rs and main.rs in the repository (target/, .localnet/ and
node_modules/ excluded).
Fenced code blocks are skipped.

Checked:
  - every relative Markdown link target, [text](path) or [text](path#anchor), resolves to an
    existing file or directory relative to the file containing it (http:, https:, mailto: and
    pure #anchor links are not checked);
  - every repository path written in backticks exists relative to the repository root. A
    backticked text is a repository path when it contains a `/` and its first component is an
    existing top-level directory of the repository (`data-chain/`, `docs/`, `tests/`, ...), so
    node-home paths such as `data/blocks.redb` are not checked. Texts with `*`, `{`, `<`, `$`,
    `...` or spaces are ignored; a trailing `:LINE`, `::item` or `#anchor` is stripped.

Prints every problem as `FILE:LINE: broken link|path: TARGET` and exits 1, or prints a
one-line summary and exits 0. Standard library only; run from anywhere:
    python3 scripts/check-doc-links.py
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Not part of the repository: git metadata and the ignored build, node and npm folders.
SKIP_DIRS = {".git", "target", ".localnet", "node_modules"}

FENCE = re.compile(r"^\s*(```|~~~)")
# An inline code span: backticks around text without a backtick or a blank line in it.
CODE_SPAN = re.compile(r"`((?:(?!\n\s*\n)[^`])+)`")
LINK = re.compile(r"\[[^\]\n]*\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = ("http://", "https://", "mailto:")
IGNORED_IN_PATH = ("*", "{", "<", "$", "...", " ", "\t", "\n")


def scanned_files():
    """Markdown under docs/, README.md, and every lib.rs / main.rs outside target/."""
    files = [os.path.join(ROOT, "README.md")]
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel = os.path.relpath(dirpath, ROOT)
        for name in sorted(filenames):
            in_docs = rel == "docs" or rel.startswith("docs" + os.sep)
            if (in_docs and name.endswith(".md")) or name in ("lib.rs", "main.rs"):
                files.append(os.path.join(dirpath, name))
    return files


def doc_text(path):
    """The text to check, one output line per file line (other lines blanked)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, in_fence = [], False
    for line in lines:
        if path.endswith(".rs"):
            stripped = line.lstrip()
            line = stripped[3:] if stripped.startswith("//!") else ""
        if FENCE.match(line):
            in_fence = not in_fence
            out.append("")
        else:
            out.append("" if in_fence else line)
    return "\n".join(out)


def repo_path(text, top_dirs):
    """The repository path a backticked text names, or None if it names none."""
    if "/" not in text or any(s in text for s in IGNORED_IN_PATH):
        return None
    text = text.split("#", 1)[0].split("::", 1)[0]
    text = re.sub(r":\d+(-\d+)?$", "", text)
    if text.startswith("./"):
        text = text[2:]
    return text if text.split("/", 1)[0] in top_dirs else None


def check_file(path, top_dirs, problems, counts):
    text = doc_text(path)
    rel = os.path.relpath(path, ROOT)

    def line_of(offset):
        return text.count("\n", 0, offset) + 1

    # Backticked repository paths; then blank the code spans so links inside them are ignored.
    for m in CODE_SPAN.finditer(text):
        target = repo_path(m.group(1), top_dirs)
        if target is None:
            continue
        counts["path"] += 1
        if not os.path.exists(os.path.join(ROOT, target)):
            problems.append((rel, line_of(m.start()), f"broken path: {m.group(1)}"))
    text = CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)

    for m in LINK.finditer(text):
        target = m.group(1)
        if target.startswith(EXTERNAL) or target.startswith("#"):
            continue
        counts["link"] += 1
        file_part = target.split("#", 1)[0]
        if not os.path.exists(os.path.join(os.path.dirname(path), file_part)):
            problems.append((rel, line_of(m.start()), f"broken link: {target}"))


def main():
    top_dirs = {
        d for d in os.listdir(ROOT)
        if d not in SKIP_DIRS and os.path.isdir(os.path.join(ROOT, d))
    }
    problems, counts = [], {"link": 0, "path": 0}
    files = scanned_files()
    for path in files:
        check_file(path, top_dirs, problems, counts)
    for rel, line, what in sorted(problems):
        print(f"{rel}:{line}: {what}")
    if problems:
        print(f"{len(problems)} broken link(s)/path(s)", file=sys.stderr)
        return 1
    print(f"doc links OK: {counts['link']} links and {counts['path']} repository paths "
          f"in {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())

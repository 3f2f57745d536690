"""Render ``benchmarks/results/*.md`` into the documentation.

At ``builder-inited`` every markdown result file is converted to a
reStructuredText fragment ``docs/generated/benchmarks/<name>.inc`` (headings,
paragraphs, bullet lists and pipe tables: what the benchmark scripts write),
and ``docs/generated/benchmarks/all.inc`` includes them all. ``.inc`` is not a
source suffix, so the fragments are not documents of their own; the page
``user_guide/benchmarks.rst`` includes ``all.inc``. The tables therefore
always show the last results committed to ``benchmarks/results/``.
"""

import re
from pathlib import Path

# Markdown heading level -> rst underline (below the page's own levels).
_UNDERLINES = {1: "~", 2: "^", 3: '"', 4: "'"}
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def _escape_plain(text):
    """Escape what rst would read as markup in plain (non-code) text."""
    spans = []
    for regex, fmt in ((_STRONG, "**{}**"), (_EMPHASIS, "*{}*")):
        for match in regex.finditer(text):
            spans.append((match.start(), match.end(), fmt.format(match.group(1))))
    spans.sort()
    kept, last_end = [], -1
    for start, end, value in spans:
        if start >= last_end:
            kept.append((start, end, value))
            last_end = end

    def escape(chunk):
        chunk = chunk.replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|")
        chunk = re.sub(r"(\w)_(?=\W|$)", r"\1\\_", chunk)
        return chunk

    return _rewrite(text, kept, escape)


def _rewrite(text, spans, convert_between):
    """``text`` with each ``(start, end, replacement)`` of ``spans`` (sorted,
    not overlapping) replaced, and ``convert_between`` applied to the rest."""
    out, pos = [], 0
    for start, end, replacement in spans:
        out.append(convert_between(text[pos:start]))
        out.append(replacement)
        pos = end
    out.append(convert_between(text[pos:]))
    return "".join(out)


def _inline(text):
    """Markdown inline markup -> rst (code spans, links, bold, italics)."""

    def code_span(match):
        code = match.group(2).strip()
        return f"``{code}``" if code else ""

    spans = [(m.start(), m.end(), code_span(m)) for m in _CODE_SPAN.finditer(text)]
    return _rewrite(text, spans, _links)


def _links(text):
    spans = [(m.start(), m.end(), f"`{m.group(1)} <{m.group(2)}>`__")
             for m in _LINK.finditer(text)]
    return _rewrite(text, spans, _escape_plain)


def _cells(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [cell.strip() for cell in line.split("|")]


def _table(rows):
    header, body = rows[0], rows[1:]
    width = len(header)
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header] + body:
        row = (row + [""] * width)[:width]
        for i, cell in enumerate(row):
            text = _inline(cell)
            prefix = "   * -" if i == 0 else "     -"
            lines.append(f"{prefix} {text}".rstrip())
    return lines + [""]


def markdown_to_rst(text, source=None):
    """Convert the subset of markdown the benchmark scripts write.

    ``source``, if given, is named in a line after the first heading.
    """
    lines = text.splitlines()
    out, i = [], 0
    pending_source = source
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"^(#{1,4})\s+(.*?)\s*#*\s*$", line)
        if heading:
            title = _inline(heading.group(2))
            out += ["", title, _UNDERLINES[len(heading.group(1))] * max(len(title), 4), ""]
            if pending_source:
                out += [f"*File* ``{pending_source}``", ""]
                pending_source = None
            i += 1
            continue
        if line.lstrip().startswith("|") and i + 1 < len(lines) and _TABLE_RULE.match(
            lines[i + 1].strip()
        ):
            rows = [_cells(line)]
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            out += [""] + _table(rows)
            continue
        bullet = re.match(r"^(\s*)[-*+]\s+(.*)$", line)
        if bullet:
            if out and out[-1].strip() and not out[-1].lstrip().startswith("- "):
                out.append("")
            out.append(f"{bullet.group(1)}- {_inline(bullet.group(2))}")
            i += 1
            continue
        if line.startswith("    ") and line.strip():
            out += ["::", ""]
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                out.append(lines[i])
                i += 1
            out.append("")
            continue
        out.append(_inline(line) if line.strip() else "")
        i += 1
    return "\n".join(out).strip() + "\n"


def _write_if_changed(path, text):
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def generate(app):
    src = Path(app.srcdir)
    results = src.parent / "benchmarks" / "results"
    dest = src / "generated" / "benchmarks"
    dest.mkdir(parents=True, exist_ok=True)
    parts = []
    files = sorted(results.glob("*.md"))
    names = {md.stem for md in files}
    for md in files:
        if md.stem.endswith("_quick") and md.stem[: -len("_quick")] in names:
            continue  # a smoke run of a benchmark whose full run is there
        rst = markdown_to_rst(md.read_text("utf-8"), source=f"benchmarks/results/{md.name}")
        _write_if_changed(dest / f"{md.stem}.inc", rst)
        parts.append(f".. include:: /generated/benchmarks/{md.stem}.inc\n")
    if not parts:
        parts.append("No result files in ``benchmarks/results/`` yet.\n")
    _write_if_changed(dest / "all.inc", "\n".join(parts))


def setup(app):
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Model text in a matplotlib figure: every character drawn by a font that holds it, never an empty box.

matplotlib draws with one font family (DejaVu by default) and warns once per glyph that family lacks, drawing an
empty box instead.  Here the characters a figure will show are looked up first: the default font, then the other
installed fonts matplotlib knows (in name order), each added to the family list only if it holds a character the
ones before it lack (matplotlib falls back glyph by glyph along that list); a character no installed font holds is
drawn as its code point, ⟨U+4E2D⟩.  So no warning is ever raised, and CJK text is drawn where a CJK font is
installed (Debian: fonts-wqy-zenhei or fonts-noto-cjk).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

# Fonts that map every code point to a box (matplotlib ships "Last Resort"): they draw no character.
PLACEHOLDER_FONTS = ("Last Resort",)


@cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):  # a font file FreeType cannot read covers nothing
        return frozenset()


class PlotFonts:
    """The font families that draw `texts` (for `fontfamily=`) and `label(text)` for what none can draw."""

    def __init__(self, texts: Iterable[str], family: str = "sans-serif"):
        from matplotlib import font_manager

        default = font_manager.findfont(
            font_manager.FontProperties(family=[family]), fallback_to_default=True
        )
        covered = set(_charmap(default))
        self.families: list[str] = [family]
        self.missing: set[int] = set()
        needed = sorted({ord(c) for text in texts for c in text} - covered)
        entries = sorted(
            (e for e in font_manager.fontManager.ttflist if not e.name.startswith(PLACEHOLDER_FONTS)),
            key=lambda e: (e.name, e.fname),
        )
        for point in needed:
            if point in covered:
                continue
            entry = next((e for e in entries if point in _charmap(e.fname)), None)
            if entry is None:
                self.missing.add(point)
                continue
            if entry.name not in self.families:
                self.families.append(entry.name)
            covered |= _charmap(entry.fname)

    def label(self, text: str) -> str:
        """`text` with each character no installed font holds written as its code point."""
        if not self.missing or not any(ord(c) in self.missing for c in text):
            return text
        return "".join(f"⟨U+{ord(c):04X}⟩" if ord(c) in self.missing else c for c in text)

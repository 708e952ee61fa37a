"""The Chinese font of the folio: Noto Sans SC from a registry package, embedded in the PDF.

No CJK font can be assumed on a planner's machine, so the folio brings its own: Noto Sans SC
(SIL Open Font License 1.1) from the PyPI package ``pylopdf-fonts-zh-cn``, installed with
``pip install 'dz_gis[folio]'``. The PDF embeds the glyphs it uses (``pdf.fonttype`` 42, a
subset), so the file shows the same on a machine without the font.

The package ships the font with CFF (PostScript) outlines, while matplotlib embeds every
Type 42 font as TrueType (``CIDFontType2``, ``FontFile2``): a CFF font in there makes a
PDF that viewers may refuse ("mismatch between font type and embedded font file"). So the
font is converted once to TrueType outlines with fontTools (the ``otf2ttf`` recipe of the
fontTools project: cubic curves to quadratic within 1 font unit) and kept in
``<cache_folder>/fonts``; no library does this conversion as a call.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
from pathlib import Path

from .. import settings
from .._atomic import atomic_path
from .._errors import DataFileError

__all__ = ["FONT_FAMILY", "FONT_LICENCE", "cjk_font_path", "register_cjk_font"]

logger = logging.getLogger(__name__)

#: The family name the folio's text is set in.
FONT_FAMILY = "Noto Sans SC"
#: What the folio's colophon says of the font.
FONT_LICENCE = "Noto Sans SC © Adobe, SIL Open Font License 1.1"


def _source_font() -> Path:
    try:
        import pylopdf_fonts_zh_cn
    except ImportError as exc:
        raise ImportError(
            "The folio needs the Chinese font package: pip install 'dz_gis[folio]' "
            "(PDF 图集需要中文字体包 pylopdf-fonts-zh-cn)"
        ) from exc
    return Path(pylopdf_fonts_zh_cn.sans_path())


def cjk_font_path(*, rebuild: bool = False) -> Path:
    """The TrueType Noto Sans SC, converted from the package's font the first time (~15 s).

    It is kept in ``<cache_folder>/fonts``, or in the temporary folder when the cache
    folder cannot be written; ``rebuild`` converts it again.
    """
    source = _source_font()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    name = f"{source.stem}-{digest}.ttf"
    folders = [Path(settings.cache_folder) / "fonts", Path(tempfile.gettempdir()) / "dz_gis-fonts"]
    for folder in folders:
        target = folder / name
        if target.exists() and not rebuild:
            return target
        logger.info("converting %s to TrueType outlines for PDF embedding (once, ~15 s)", source.name)
        try:
            with atomic_path(target) as tmp:
                _to_truetype(source, tmp)
            return target
        except OSError as exc:
            logger.warning("cannot keep the converted font in %s (%s)", folder, exc)
    raise DataFileError(
        f"cannot write the converted font into {' or '.join(map(str, folders))} (无法写入字体缓存); "
        "set dz_gis.settings.cache_folder (or DZ_GIS_CACHE) to a folder you can write."
    )


def _to_truetype(source: Path, target: Path) -> None:
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(source)
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        # CFF contours run counter-clockwise, TrueType ones clockwise
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for tag in ("CFF ", "VORG"):  # VORG belongs to CFF fonts only
        if tag in font:
            del font[tag]
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs"):
        setattr(maxp, field, 0)
    for field in ("maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    font["post"].formatType = 3.0  # no glyph names: 31,000 do not fit a format-2 table
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(target)


@functools.cache
def register_cjk_font() -> str:
    """Add the folio's font to matplotlib's font list; the family name to set text in."""
    from matplotlib import font_manager

    path = cjk_font_path()
    try:
        font_manager.fontManager.addfont(str(path))
    except (RuntimeError, OSError) as exc:  # FreeType cannot read it: a damaged cache file
        logger.warning("%s cannot be read (%s); converting the font again", path, exc)
        path = cjk_font_path(rebuild=True)
        font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    if name != FONT_FAMILY:  # pragma: no cover - a changed package
        raise RuntimeError(f"{path}: expected the font family {FONT_FAMILY!r}, found {name!r}")
    return name

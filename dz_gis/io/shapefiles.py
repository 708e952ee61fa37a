"""Shapefiles as planners send them: loose or zipped, GBK or UTF-8, with or without (a truthful) .cpg.

GDAL decodes a DBF with the code page its ``.cpg`` names, else as Latin-1; Chinese DBFs from
ArcGIS/SuperMap are often GBK without a ``.cpg``, and some carry a ``.cpg`` that says UTF-8
over GBK bytes (GDAL then fails with a raw UnicodeDecodeError, or garbles every name). The
encoding is therefore chosen here from the bytes themselves: the ``.cpg`` when the text
decodes with it, else UTF-8, else GB18030 (a superset of GBK/GB2312), and the choice is logged.

Field names are at most 10 bytes in a DBF, and GDAL, ArcGIS and others cut them at byte 10
even inside a character (``社区编码`` in UTF-8 is 12 bytes), which makes pyogrio fail. Such a
DBF is read from an in-memory copy whose names end at the last whole character; no library
repairs this, hence the hand-written header parsing below (the DBF header layout is fixed:
dBase III, 32-byte field descriptors from byte 32 up to the 0x0D terminator).
"""

from __future__ import annotations

import io
import logging
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import geopandas as gpd
import pyogrio

from .._errors import DataFileError
from .columns import expand_cut_name

__all__ = ["choose_encoding", "read_shapefile", "zip_members"]

logger = logging.getLogger(__name__)

#: Code-page names found in .cpg files, and the Python codec for each.
_CPG_CODECS = {
    "utf8": "utf-8", "65001": "utf-8", "936": "gbk", "cp936": "gbk", "gbk": "gbk", "gb2312": "gbk",
    "gb18030": "gb18030", "54936": "gb18030", "950": "big5", "big5": "big5", "88591": "latin1",
    "iso88591": "latin1", "1252": "cp1252", "ansi1252": "cp1252", "cp1252": "cp1252", "latin1": "latin1",
}  # fmt: skip
_SINGLE_BYTE = {"latin1", "cp1252"}
_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@dataclass
class Decision:
    """The encoding to read a DBF with, and the names that must be mended first."""

    encoding: str | None
    note: str = ""
    contradicts_cpg: bool = False
    cut_names: dict[int, tuple[bytes, str]] = field(default_factory=dict)  # field index -> (raw, mended)


def _dbf_parts(raw: bytes) -> tuple[list[bytes], bytes]:
    """The raw field names and the record bytes of a DBF file."""
    if len(raw) < 32:
        return [], b""
    header_len = int.from_bytes(raw[8:10], "little")
    names = []
    for start in range(32, min(header_len, len(raw)) - 31, 32):
        if raw[start] == 0x0D:
            break
        names.append(raw[start : start + 11].split(b"\0", 1)[0])
    return names, raw[header_len:]


def _decode_name(name: bytes, codec: str) -> tuple[str, bool] | None:
    """The name decoded, dropping at most 3 trailing bytes of a character cut by the 10-byte limit."""
    for cut in range(0, min(4, len(name))):
        try:
            return name[: len(name) - cut].decode(codec), cut > 0
        except UnicodeDecodeError:
            continue
    return None


def _decodes(codec: str, names: list[bytes], body: bytes) -> dict[int, tuple[bytes, str]] | None:
    """The cut names to mend when all of the DBF decodes with ``codec``; None when it does not."""
    try:
        body.decode(codec)
    except UnicodeDecodeError:
        return None
    cut = {}
    for i, name in enumerate(names):
        res = _decode_name(name, codec)
        if res is None:
            return None
        if res[1]:
            cut[i] = (name, res[0])
    return cut


def _mostly_chinese(text: str) -> bool:
    wide = [ch for ch in text if ord(ch) > 127]
    return bool(wide) and sum("\u4e00" <= ch <= "\u9fff" for ch in wide) >= 0.5 * len(wide)


def _gbk_common(ch: str) -> bool:
    """A GB2312 hanzi or full-width punctuation: what simplified Chinese text is made of."""
    try:
        lead = ch.encode("gb2312")[0]
    except UnicodeEncodeError:
        return False
    return 0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xF7


def _looks_big5(raw: bytes) -> bool:
    """Big5 (繁體) bytes that GB18030 also decodes, into rare hanzi, kana and private-use characters.

    Big5 puts its most frequent characters at lead bytes 0xA4-0xAF (kana, Greek and unassigned
    rows in GB2312) and 40 % of them at trail bytes 0x40-0x7E (outside GB2312): read as GBK,
    most characters are not GB2312 ones, while real GBK text is almost all GB2312.
    """
    try:
        raw.decode("big5")
    except UnicodeDecodeError:
        return False
    wide = [ch for ch in raw.decode("gb18030") if ord(ch) > 127][:20000]  # a sample is enough
    return bool(wide) and sum(map(_gbk_common, wide)) < 0.6 * len(wide)


def choose_encoding(raw_dbf: bytes, cpg: str | None, where: str, encoding: str | None = None) -> Decision:
    r"""Choose the encoding of a DBF from its bytes, its ``.cpg`` text and the caller's ``encoding=``.

    Examples
    --------
    >>> dbf = bytes(8) + (65).to_bytes(2, "little") + bytes(22) + b"\xbb\xa7\xca\xfd" + bytes(28) + b"\r"
    >>> choose_encoding(dbf, None, "x.dbf").encoding  # 户数 in GBK, no .cpg
    'gb18030'
    >>> choose_encoding(dbf, "UTF-8", "x.dbf").contradicts_cpg  # a .cpg that lies
    True
    """
    names, body = _dbf_parts(raw_dbf)
    if encoding:
        try:
            cut = _decodes(encoding, names, body)
        except LookupError:
            raise DataFileError(
                f"{where}: unknown text encoding {encoding!r}. Pass encoding='gb18030' or 'utf-8'."
            ) from None
        return Decision(encoding, "given as encoding=", cut_names=cut or {})
    if body.isascii() and all(n.isascii() for n in names):
        return Decision(None)
    key = (cpg or "").strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    declared = _CPG_CODECS.get(key)
    said = f"as its .cpg says ({cpg.strip()!r})" if cpg else ""
    # UTF-8 first whatever the .cpg says: GBK text is almost never valid UTF-8, while UTF-8
    # text often decodes as GBK, into nonsense.
    candidates = [("utf-8", said if declared == "utf-8" else "detected")]
    if declared and declared not in _SINGLE_BYTE | {"utf-8"}:
        candidates.append((declared, said))
    candidates.append(("gb18030", "detected"))
    for codec, how in candidates:
        cut = _decodes(codec, names, body)
        if cut is None:
            continue
        if codec == "gb18030" and declared in _SINGLE_BYTE and not _mostly_chinese(body.decode(codec)):
            break  # a Latin-1 .cpg over text that is not Chinese: believe the .cpg
        if codec == "gb18030" and declared != "gb18030" and _looks_big5(b"".join(names) + body):
            raise DataFileError(
                f"{where}: the attribute table looks like Big5 text (繁體中文, Taiwan/Hong Kong): read as GBK its "
                f"names would come out garbled (e.g. {_garbled_sample(names, body)!r}). Pass encoding='big5', or "
                "add a .cpg file holding 950 (Big5)."
            )
        lied = cpg is not None and declared != codec and not (declared == "gbk" and codec == "gb18030")
        return Decision(codec, how, contradicts_cpg=lied, cut_names=cut)
    if declared in _SINGLE_BYTE:
        return Decision(declared, f"as its .cpg says ({cpg.strip()!r})" if cpg else "")
    raise DataFileError(
        f"{where}: the attribute table is neither UTF-8 nor GBK/GB18030 text"
        + (f" (its .cpg says {cpg.strip()!r})" if cpg else "")
        + ". Pass encoding=... (e.g. encoding='big5') or add a .cpg file naming the code page."
    )


def _garbled_sample(names: list[bytes], body: bytes) -> str:
    wide = [n.decode("gb18030") for n in names if not n.isascii()]
    return wide[0] if wide else " ".join(body.decode("gb18030").split())[:20]


def _mended_dbf(raw: bytes, cut: dict[int, tuple[bytes, str]], codec: str) -> bytes:
    out = bytearray(raw)
    for i, (_, name) in cut.items():
        new = name.encode(codec)[:10]
        out[32 + 32 * i : 32 + 32 * i + 11] = new + bytes(11 - len(new))
    return bytes(out)


def shown_name(member: str) -> str:
    """A zip member's name as its maker wrote it.

    Zips made by Windows Explorer on a Chinese system store GBK names without the UTF-8 flag;
    zipfile (and GDAL) then decode them as CP437 (``╔τ╟°.shp`` for 社区.shp). GDAL is given the
    CP437 form; messages and ``layer=`` use this one.
    """
    try:
        return member.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member


def zip_members(path: Path) -> list[str]:
    """Names of the members of a zip file (a DataFileError when it is not a readable zip)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [m for m in zf.namelist() if not m.endswith("/") and "__MACOSX" not in m]
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataFileError(f"{path}: cannot open the zip file ({exc}). Zip the files again, or unpack them.") from None


class _Parts:
    """The files of one shapefile set, loose in a folder or inside a zip."""

    def __init__(self, path: Path, member: str | None = None) -> None:
        self.path, self.member = path, member
        if member is None:
            stem, folder = path.stem, path.parent
            found = {p.suffix.lower(): p for p in folder.glob(f"{glob_escape(stem)}.*") if p.stem == stem}
            self._loose = {s: p for s, p in found.items() if s in _PARTS}
            self.where = str(path)
        else:
            base = str(PurePosixPath(member).with_suffix(""))
            names = zip_members(path)
            self._zipped = {
                PurePosixPath(n).suffix.lower(): n for n in names if str(PurePosixPath(n).with_suffix("")) == base
            }
            self.where = f"{path} ({shown_name(member)})"

    def names(self) -> dict[str, str]:
        if self.member is None:
            return {s: p.name for s, p in self._loose.items()}
        return {s: PurePosixPath(n).name for s, n in self._zipped.items() if s in _PARTS}

    def read(self, suffix: str) -> bytes | None:
        if self.member is None:
            p = self._loose.get(suffix)
            return p.read_bytes() if p else None
        name = self._zipped.get(suffix)
        if name is None:
            return None
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(name)

    def gdal_path(self) -> str:
        return str(self.path) if self.member is None else f"/vsizip/{self.path}/{self.member}"


def glob_escape(text: str) -> str:
    """``text`` with glob wildcards escaped (file names with [ ] * ?)."""
    return "".join(f"[{c}]" if c in "[]*?" else c for c in text)


def read_shapefile(path: Path, *, member: str | None = None, encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read a shapefile (``member`` names the .shp inside a zip) with its encoding checked.

    Raises DataFileError for a missing .dbf or .shx (GDAL would silently drop every attribute
    without the .dbf) and for text in no known encoding; warns when a .cpg contradicts the bytes.
    """
    parts = _Parts(path, member)
    have = parts.names()
    stem = PurePosixPath(shown_name(member)).stem if member else path.stem
    for suffix, what in ((".dbf", "attribute table (属性表: 户数, 社区编码 …)"), (".shx", "index")):
        if suffix not in have:
            raise DataFileError(
                f"{parts.where}: the shapefile's {what} {stem}{suffix} is missing (缺少 {suffix} 文件), so "
                f"it cannot be read{' without losing every attribute' if suffix == '.dbf' else ''}. Copy the "
                ".shp together with its .shx, .dbf and .prj files (same name, same folder)."
            )
    raw_dbf = parts.read(".dbf") or b""
    cpg_raw = parts.read(".cpg")
    cpg = cpg_raw.decode("ascii", "replace") if cpg_raw is not None else None
    choice = choose_encoding(raw_dbf, cpg, parts.where, encoding)
    if choice.contradicts_cpg and cpg is not None:
        warnings.warn(
            f"{parts.where}: the .cpg says the text is {cpg.strip()!r} (cpg = 编码声明), but it only decodes as "
            f"{choice.encoding}; read as {choice.encoding}. Check the names, or pass encoding=... to override.",
            UserWarning,
            stacklevel=4,
        )
    elif choice.encoding and choice.note:
        logger.info("%s: attribute text read as %s (%s)", parts.where, choice.encoding, choice.note)
    source: str | io.BytesIO = parts.gdal_path()
    if choice.cut_names:
        source = _mended_copy(parts, raw_dbf, choice)
    gdf = pyogrio.read_dataframe(source, encoding=choice.encoding)
    return _expand_cut_names(gdf, choice, parts.where)


def _mended_copy(parts: _Parts, raw_dbf: bytes, choice: Decision) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for suffix in _PARTS:
            data = (
                _mended_dbf(raw_dbf, choice.cut_names, choice.encoding or "utf-8")
                if suffix == ".dbf"
                else parts.read(suffix)
            )
            if data is not None:
                zf.writestr(f"layer{suffix}", data)
    buf.seek(0)
    return buf


def _expand_cut_names(gdf: gpd.GeoDataFrame, choice: Decision, where: str) -> gpd.GeoDataFrame:
    if not choice.cut_names:
        return gdf
    rename, shown = {}, []
    for _, name in choice.cut_names.values():
        full = expand_cut_name(name)
        if full and full not in gdf.columns and name in gdf.columns:
            rename[name] = full
        shown.append(f"{name!r}" + (f" → {full!r}" if full else ""))
    warnings.warn(
        f"{where}: {len(shown)} field name(s) were cut inside a character by the 10-byte DBF limit "
        f"(字段名被截断): {', '.join(shown)}. Check the columns, or pass columns={{...}} to name them.",
        UserWarning,
        stacklevel=4,
    )
    return gdf.rename(columns=rename)

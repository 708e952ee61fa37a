"""The folio PDF of the sample: its pages, its embedded Chinese font, the gaps and clauses on each page."""

import dataclasses
import io
import re

import geopandas as gpd
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from dz_gis import ValidationError
from dz_gis.outputs import folio as folio_module
from dz_gis.outputs import write_folio, write_outputs
from dz_gis.pipeline import check_plan, run_coverage
from dz_gis.plan import load_rules

FIXED_PAGES = 3  # cover, indicators, overview


@pytest.fixture(scope="module")
def built(sample, tmp_path_factory):
    run = run_coverage(sample.graph, sample.communities, sample.compounds, sample.facilities)
    check = check_plan(run, load_rules())
    first = run.communities.to_crs(run.isochrones.crs).iloc[[0]]
    sites = gpd.GeoDataFrame(
        {"label": ["拟建 综合服务站 P1"]}, geometry=first.geometry.representative_point().to_numpy(), crs=first.crs
    )
    path = tmp_path_factory.mktemp("folio") / "folio.pdf"
    assert write_folio(run, check, path, proposals=sites, attribution=sample.attribution) == path
    return run, check, path, PdfReader(path)


@pytest.fixture(scope="module")
def texts(built):
    """The text of each page, extracted once (through the fonts' ToUnicode maps)."""
    return [page.extract_text() for page in built[3].pages]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_one_page_per_community_after_the_fixed_pages(built, texts):
    run, _, _, pdf = built
    assert len(pdf.pages) == FIXED_PAGES + len(run.communities)
    for i, cid in enumerate(run.communities["community_id"]):
        assert f"({cid})" in texts[FIXED_PAGES + i]
    assert "15分钟社区生活圈" in texts[0]
    assert "暂定单元" in texts[0]  # the sample's units are provisional: the cover says so


def test_the_chinese_font_is_embedded_as_truetype(built):
    *_, pdf = built
    seen = set()
    for page in pdf.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            seen.add(str(font["/BaseFont"]).split("+")[-1])
            assert font["/Subtype"] == "/Type0", font["/BaseFont"]  # every glyph from an embedded CID font
            desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            data = desc["/FontFile2"].get_object().get_data()
            assert data[:4] == b"\x00\x01\x00\x00"  # TrueType outlines, as /FontFile2 requires
            assert "glyf" in TTFont(io.BytesIO(data))
    assert seen == {"NotoSansSC-Regular"}


def test_each_page_lists_its_gaps_with_their_clauses(built, texts):
    run, check, *_ = built
    gaps = check.gaps[(check.gaps["scope"] == "community") & (check.gaps["status"] == "gap")]
    for i, cid in enumerate(run.communities["community_id"]):
        text = texts[FIXED_PAGES + i]
        mine = gaps[gaps["unit_id"] == cid]
        assert len(mine) > 0
        assert text.count("■ [") == len(mine), cid
        for clause, title in zip(mine["clause"], mine["title_zh"], strict=True):
            assert _squash(clause) in _squash(text), (cid, clause)
            assert _squash(title) in _squash(text), (cid, title)
    # the indicator table: every indicator, its target beside its actual
    table = _squash(texts[1])
    for _, row in check.indicators.iterrows():
        assert _squash(row["indicator_zh"]) in table and _squash(row["actual"]) in table


def test_proposals_and_the_attribution_are_printed(texts):
    assert "拟建 综合服务站 P1" in texts[FIXED_PAGES]
    assert all("OpenStreetMap contributors" in text for text in texts)


def test_written_atomically(built, tmp_path, monkeypatch):
    run, check, *_ = built
    target = tmp_path / "folio.pdf"
    target.write_bytes(b"the previous folio")

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(folio_module.maps, "draw_bands", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_folio(run, check, target)
    assert target.read_bytes() == b"the previous folio"
    assert [p.name for p in tmp_path.iterdir()] == ["folio.pdf"]  # no temporary file left behind


def test_bad_proposals_name_the_fix(built, tmp_path):
    run, check, *_ = built
    with pytest.raises(ValidationError, match="proposals"):
        write_folio(run, check, tmp_path / "f.pdf", proposals=gpd.GeoDataFrame({"label": ["a"]}, geometry=[None]))
    assert not (tmp_path / "f.pdf").exists()


def test_write_outputs_can_leave_the_folio_out(built, tmp_path):
    run, check, *_ = built
    written = write_outputs(run, check, tmp_path, web_map=False, folio=False)
    assert "folio" not in written and not (tmp_path / "folio.pdf").exists()


def test_a_run_without_circles_streets_or_names(built, tmp_path):
    run, check, *_ = built
    bare = dataclasses.replace(
        run, isochrones=None, communities=run.communities.drop(columns=["street", "name", "provisional"])
    )
    pdf = PdfReader(write_folio(bare, check, tmp_path / "bare.pdf"))
    assert len(pdf.pages) == FIXED_PAGES + len(run.communities)
    assert "暂定单元" not in pdf.pages[0].extract_text() and "街道" not in pdf.pages[0].extract_text()
    page = pdf.pages[FIXED_PAGES].extract_text()
    assert "bands not computed" in page and "Provisional unit" not in page


def test_a_character_no_font_has_is_reported_not_dropped(built, tmp_path):
    # the text falls back to DejaVu Sans only for glyphs Noto Sans SC lacks; a glyph neither has
    # (a private-use code point) warns, and the test suite turns that warning into an error
    run, check, *_ = built
    one = dataclasses.replace(run, communities=run.communities.iloc[:1].assign(name="\ue000 社区"))
    with pytest.warns(UserWarning, match="missing from font"):
        write_folio(one, check, tmp_path / "one.pdf")


def test_a_damaged_font_cache_is_converted_again(tmp_path, monkeypatch):
    from matplotlib import font_manager

    from dz_gis import settings
    from dz_gis.outputs import _folio_font

    good = _folio_font.cjk_font_path()  # the converted font of this machine's cache
    monkeypatch.setattr(settings, "cache_folder", tmp_path)
    damaged = tmp_path / "fonts" / good.name
    damaged.parent.mkdir()
    damaged.write_bytes(b"not a font")
    converted = []

    def convert(source, target):  # the real conversion takes ~15 s; its result is already at hand
        converted.append(source)
        target.write_bytes(good.read_bytes())

    monkeypatch.setattr(_folio_font, "_to_truetype", convert)
    # matplotlib's font list gets the copy in tmp_path; the other tests keep the list they had
    monkeypatch.setattr(font_manager.fontManager, "ttflist", list(font_manager.fontManager.ttflist))
    assert _folio_font.register_cjk_font.__wrapped__() == "Noto Sans SC"
    assert len(converted) == 1 and damaged.read_bytes() == good.read_bytes()

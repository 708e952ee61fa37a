"""GeoPackage output: version 1.2, QGIS styles, text fields, no null geometries; a fixed date gives the same bytes."""

import sqlite3
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from dz_gis._errors import ValidationError
from dz_gis.outputs import write_geopackage
from dz_gis.outputs.geopackage import gap_layers
from dz_gis.outputs.qgis_styles import LayerStyle, coverage_styles

DATE = "2000-01-01T00:00:00.000Z"


@pytest.fixture
def layers():
    frame = gpd.GeoDataFrame({"name": ["一", "二"]}, geometry=[shapely.Point(1, 2), shapely.box(0, 0, 1, 1)], crs=4326)
    return {"a": frame, "b": frame.iloc[:1]}


def last_changes(path):
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall())


def test_a_fixed_date_gives_the_same_bytes(tmp_path, layers):
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    first = write_geopackage(tmp_path / "first.gpkg", layers, fixed_date=DATE)
    time.sleep(1.1)  # GDAL's own stamp would differ by now
    second = write_geopackage(tmp_path / "second.gpkg", layers, fixed_date=DATE)
    assert first.read_bytes() == second.read_bytes()
    assert last_changes(first) == {"a": DATE, "b": DATE}
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") == before  # restored after writing


def test_without_a_date_gdal_stamps_the_time_of_writing(tmp_path, layers, monkeypatch):
    monkeypatch.delenv("OGR_CURRENT_DATE", raising=False)  # as a script may set it for the whole process
    path = write_geopackage(tmp_path / "now.gpkg", layers)
    year = time.strftime("%Y", time.gmtime())
    assert all(stamp.startswith(year) for stamp in last_changes(path).values())


def test_a_date_without_milliseconds_is_accepted(tmp_path, layers):
    path = write_geopackage(tmp_path / "day.gpkg", layers, fixed_date="2023-06-30T00:00:00Z")
    assert set(last_changes(path).values()) == {"2023-06-30T00:00:00Z"}


def test_a_bad_date_says_how_to_write_it(tmp_path, layers):
    with pytest.raises(ValidationError, match=r"fixed_date='2000-01-01': write it as YYYY-MM-DDTHH:MM:SS\[.sss\]Z"):
        write_geopackage(tmp_path / "x.gpkg", layers, fixed_date="2000-01-01")
    assert not (tmp_path / "x.gpkg").exists()


# --- GeoPackage 1.2, QGIS styles, field types, tables without geometry -------------------------------------------

QGIS_STYLE_COLUMNS = [
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]


def test_written_as_geopackage_1_2_also_after_appending_layers(tmp_path, layers):
    path = write_geopackage(tmp_path / "v.gpkg", {**layers, "t": pd.DataFrame({"x": [1]})}, fixed_date=DATE)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone() == (0x47504B47,)  # 'GPKG'
        assert db.execute("PRAGMA user_version").fetchone() == (10200,)  # 1.2.0; GDAL 3.6 warns from 1.4 on


def test_styles_go_into_the_layer_styles_table_qgis_reads(tmp_path, layers):
    styles = [
        LayerStyle("a", "main", "<qgis/>"),
        LayerStyle("a", "other", "<qgis></qgis>", default=False),
        LayerStyle("t", "table", "<qgis/>"),
    ]
    path = write_geopackage(tmp_path / "s.gpkg", {**layers, "t": pd.DataFrame({"x": [1]})}, styles=styles)
    with sqlite3.connect(path) as db:
        kinds = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        columns = [row[1] for row in db.execute("PRAGMA table_info(layer_styles)")][1:]  # after the fid
        rows = db.execute(
            "SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, useAsDefault "
            "FROM layer_styles ORDER BY fid"
        ).fetchall()
        geom_column = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
    assert kinds == {"a": "features", "b": "features", "t": "attributes", "layer_styles": "attributes"}
    assert columns == QGIS_STYLE_COLUMNS
    # QGIS looks a style up by f_table_schema = '' (not NULL), table and geometry column names
    assert rows == [("", "", "a", geom_column["a"], "main", 1), ("", "", "a", geom_column["a"], "other", 0)] + [
        ("", "", "t", "", "table", 1)
    ]


def test_a_style_for_a_layer_not_written_is_an_error(tmp_path, layers):
    with pytest.raises(ValidationError, match=r"styles for layers that are not written: \['c'\]"):
        write_geopackage(tmp_path / "x.gpkg", layers, styles=[LayerStyle("c", "s", "<qgis/>")])
    assert not (tmp_path / "x.gpkg").exists()


def test_styled_files_are_byte_identical_with_a_fixed_date(tmp_path, layers):
    styles = coverage_styles({"facilities": layers["a"].assign(category="park")})
    styled = {"facilities": layers["a"].assign(category="park")}
    first = write_geopackage(tmp_path / "1.gpkg", styled, fixed_date=DATE, styles=styles)
    time.sleep(1.1)
    second = write_geopackage(tmp_path / "2.gpkg", styled, fixed_date=DATE, styles=styles)
    assert first.read_bytes() == second.read_bytes()
    with sqlite3.connect(first) as db:
        assert db.execute("SELECT DISTINCT update_time FROM layer_styles").fetchall() == [(DATE,)]


@pytest.mark.parametrize("empty", [[None, None], [None, np.nan], [np.nan, np.nan]], ids=["None", "mixed", "NaN"])
@pytest.mark.parametrize("dtype", [object, float])
def test_an_empty_text_column_stays_text(tmp_path, empty, dtype):
    frame = gpd.GeoDataFrame(
        {"name": pd.Series(empty, dtype=dtype), "area_m2": [np.nan, np.nan]},
        geometry=[shapely.Point(0, 0), shapely.Point(1, 1)],
        crs=4326,
    )
    path = write_geopackage(tmp_path / "t.gpkg", {"f": frame})
    info = pyogrio.read_info(path, layer="f")
    fields = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert fields == {"name": "object", "area_m2": "float64"}  # String, and an empty number stays Real
    with sqlite3.connect(path) as db:
        assert dict((r[1], r[2]) for r in db.execute("PRAGMA table_info(f)"))["name"] == "TEXT"
    assert pyogrio.read_dataframe(path, layer="f")["name"].isna().all()


def test_a_map_layer_with_rows_without_geometry_is_refused(tmp_path, layers):
    frame = layers["a"].copy()
    frame.loc[1, "geometry"] = None
    with pytest.raises(ValidationError, match=r"layer 'a': 1 of 2 rows have no geometry.*gap_layers"):
        write_geopackage(tmp_path / "n.gpkg", {"a": frame})
    assert not (tmp_path / "n.gpkg").exists()


def test_gap_rows_without_a_place_go_only_to_the_table():
    gaps = gpd.GeoDataFrame(
        {"unit_id": ["C1", "—", "S1"], "status": ["gap", "no data", "met"]},
        geometry=[shapely.box(0, 0, 1, 1), None, shapely.box(0, 0, 2, 2)],
        crs=4326,
    )
    split = gap_layers(gaps)
    assert list(split) == ["gaps", "gap_table"]
    assert split["gaps"]["unit_id"].tolist() == ["C1", "S1"] and not split["gaps"].geometry.isna().any()
    assert "geometry" not in split["gap_table"] and split["gap_table"]["unit_id"].tolist() == ["C1", "—", "S1"]


def test_reading_the_geopackage_back_gives_the_same_features(demo_outputs):
    layers, out = demo_outputs
    path = out / "coverage.gpkg"
    assert [name for name, _ in pyogrio.list_layers(path)] == [*layers, "layer_styles"]
    for name, frame in layers.items():
        back = pyogrio.read_dataframe(path, layer=name)
        expected = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
        pd.testing.assert_frame_equal(
            pd.DataFrame(back.drop(columns="geometry", errors="ignore")), expected, check_dtype=False, obj=name
        )
        if name == "gap_table":
            assert pyogrio.read_info(path, layer=name)["geometry_type"] is None
            continue
        assert back.crs == frame.crs and not shapely.is_missing(back.geometry.array).any(), name
        same = shapely.equals(back.geometry.array, frame.geometry.array)
        # reprojection can leave a polygon invalid; those are written repaired, so equal only in area
        repaired = ~shapely.is_valid(frame.geometry.array)
        assert (same | repaired).all(), name
        assert np.allclose(shapely.area(back.geometry.array), shapely.area(frame.geometry.array), rtol=1e-6), name
    # every gap row is in the table, as in gaps.csv; the map layer has the located ones
    csv = pd.read_csv(out / "gaps.csv", encoding="utf-8-sig", keep_default_na=False)
    assert len(layers["gap_table"]) == len(csv) > len(layers["gaps"]) > 0


def test_every_layer_has_one_default_style_in_the_web_map_colours(demo_outputs):
    import xml.etree.ElementTree as ET

    from dz_gis.outputs.palette import GAP_CLASSES, category_colours

    layers, out = demo_outputs
    with sqlite3.connect(out / "coverage.gpkg") as db:
        rows = db.execute("SELECT f_table_name, styleQML, useAsDefault FROM layer_styles").fetchall()
    defaults = {name: ET.fromstring(qml.split("\n", 1)[1]) for name, qml, default in rows if default}
    assert sorted(defaults) == sorted(layers) and len(defaults) == sum(d for *_, d in rows)
    renderer = {name: doc.find("renderer-v2") for name, doc in defaults.items()}
    assert renderer["communities"].get("type") == "graduatedSymbol"
    assert renderer["communities"].get("attr") == "cov_community_service_5min"
    assert renderer["gap_table"] is None  # a table: field names only
    colours = category_colours()

    def symbol_colour(r, i):
        value = r.find(f"symbols/symbol[@name='{i}']/layer/Option/Option[@name='color']").get("value")
        return "#{:02x}{:02x}{:02x}".format(*map(int, value.split(",")[:3]))

    for name in ("facilities", "isochrones", "gaps"):
        assert renderer[name].get("type") == "categorizedSymbol", name
    for i, cat in enumerate(renderer["facilities"].iter("category")):
        assert symbol_colour(renderer["facilities"], i) == colours[cat.get("value")]
    shown = set()
    for i, cat in enumerate(renderer["isochrones"].iter("category")):
        category, minutes = cat.get("value").rsplit(" ", 1)
        assert symbol_colour(renderer["isochrones"], i) == colours[category] and int(minutes) in (5, 10, 15)
        shown |= {category} if cat.get("render") == "true" else set()
    assert shown == {next(c for c in colours if c in set(layers["isochrones"]["category"]))}  # first in catalog
    keys = [c.get("value") for c in renderer["gaps"].iter("category")]
    assert keys == [c.key for c in GAP_CLASSES]
    assert [symbol_colour(renderer["gaps"], i) for i in range(len(keys))] == [c.colour for c in GAP_CLASSES]

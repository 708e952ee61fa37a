"""GeoPackage output: a fixed date makes the same layers give the same bytes."""

import sqlite3
import time

import geopandas as gpd
import pyogrio
import pytest
import shapely

from dz_gis._errors import ValidationError
from dz_gis.outputs import write_geopackage

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

"""GCJ-02 / BD-09 offsets against prcoords (an independent implementation), and metric CRS choice."""

from __future__ import annotations

import doctest

import numpy as np
import prcoords
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dz_gis import coords
from dz_gis._errors import CRSError, StudyAreaError
from dz_gis.coords import gcj02_to_bd09, metric_crs_for, to_wgs84, wgs84_to_gcj02

DAZHOU = (107.4987, 31.2089)  # 达州市 通川区


def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(h))


@pytest.fixture(scope="module")
def china_grid() -> tuple[np.ndarray, np.ndarray]:
    """61 x 36 = 2,196 points on 74-134 E, 18-53 N (edges included), plus Dazhou."""
    lon, lat = np.meshgrid(np.linspace(74.0, 134.0, 61), np.linspace(18.0, 53.0, 36))
    lon = np.r_[lon.ravel(), DAZHOU[0]]
    lat = np.r_[lat.ravel(), DAZHOU[1]]
    assert len(lon) >= 2000
    return lon, lat


def _prcoords(fn, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = [fn(prcoords.Coords(la, lo)) for lo, la in zip(lon, lat, strict=True)]
    return np.array([c.lon for c in out]), np.array([c.lat for c in out])


# ----------------------------------------------------------------------------- forward


def test_gcj02_forward_matches_prcoords(china_grid) -> None:
    lon, lat = china_grid
    ours = wgs84_to_gcj02(lon, lat)
    theirs = _prcoords(prcoords.wgs_gcj, lon, lat)
    assert np.abs(ours[0] - theirs[0]).max() < 1e-9
    assert np.abs(ours[1] - theirs[1]).max() < 1e-9
    # The offset is real (hundreds of metres), so the comparison is not trivially true.
    assert haversine_m(lon, lat, *ours).min() > 20


def test_bd09_forward_matches_prcoords(china_grid) -> None:
    lon, lat = china_grid
    ours = gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    theirs = _prcoords(prcoords.wgs_bd, lon, lat)
    assert np.abs(ours[0] - theirs[0]).max() < 1e-9
    assert np.abs(ours[1] - theirs[1]).max() < 1e-9


# ----------------------------------------------------------------------------- inverse


@pytest.mark.parametrize(
    ("source", "forward", "prcoords_inverse"),
    [
        ("gcj02", prcoords.wgs_gcj, prcoords.gcj_wgs_bored),
        ("bd09", prcoords.wgs_bd, prcoords.bd_wgs_bored),
    ],
)
def test_inverse_recovers_wgs84(china_grid, source, forward, prcoords_inverse) -> None:
    lon, lat = china_grid
    shifted = _prcoords(forward, lon, lat)  # offsets computed by the other implementation
    back = to_wgs84(*shifted, source=source)
    assert haversine_m(lon, lat, *back).max() < 1.0
    # ... and agrees with prcoords' own iterative inverse.
    theirs = _prcoords(prcoords_inverse, *shifted)
    assert haversine_m(*theirs, *back).max() < 1.0


@settings(max_examples=300, deadline=None, database=None)
@given(
    lon=st.floats(min_value=73.0, max_value=135.0, allow_nan=False),
    lat=st.floats(min_value=18.0, max_value=54.0, allow_nan=False),
)
def test_gcj02_round_trip_property(lon: float, lat: float) -> None:
    back_lon, back_lat = to_wgs84(*wgs84_to_gcj02(lon, lat), source="gcj02")
    assert haversine_m(lon, lat, back_lon, back_lat)[0] < 0.01


@settings(max_examples=100, deadline=None, database=None)
@given(
    lon=st.floats(min_value=73.0, max_value=135.0, allow_nan=False),
    lat=st.floats(min_value=18.0, max_value=54.0, allow_nan=False),
)
def test_bd09_round_trip_property(lon: float, lat: float) -> None:
    back_lon, back_lat = to_wgs84(*gcj02_to_bd09(*wgs84_to_gcj02(lon, lat)), source="bd09")
    assert haversine_m(lon, lat, back_lon, back_lat)[0] < 0.01


def test_wgs84_source_is_returned_unchanged() -> None:
    lon, lat = to_wgs84([107.4987, 107.51], [31.2089, 31.22], source="WGS-84")
    assert lon.tolist() == [107.4987, 107.51]
    assert lat.tolist() == [31.2089, 31.22]


def test_million_points_in_one_vectorised_call(monkeypatch) -> None:
    calls = []
    forward = coords.wgs84_to_gcj02

    def counting(lon, lat):
        calls.append(np.shape(lon))
        return forward(lon, lat)

    monkeypatch.setattr(coords, "wgs84_to_gcj02", counting)
    rng = np.random.default_rng(0)
    n = 1_000_000
    lon = rng.uniform(107.3, 107.7, n)
    lat = rng.uniform(31.0, 31.4, n)
    back_lon, back_lat = coords.to_wgs84(lon, lat, source="gcj02")
    assert back_lon.shape == back_lat.shape == (n,)
    assert np.isfinite(back_lon).all() and np.isfinite(back_lat).all()
    # Whole-array iterations, not one Python call per point.
    assert 1 <= len(calls) <= 30
    assert all(shape == (n,) for shape in calls)
    # Spot-check a few points against scalar conversions.
    for i in (0, 123_456, n - 1):
        one = to_wgs84(lon[i], lat[i], source="gcj02")
        assert (back_lon[i], back_lat[i]) == (one[0][0], one[1][0])


# ----------------------------------------------------------------------------- errors


def test_points_outside_china_are_refused_naming_the_row() -> None:
    lon = [107.4987, 24.9384, 107.51]  # row 2 is Helsinki
    lat = [31.2089, 60.1699, 31.22]
    with pytest.raises(StudyAreaError) as info:
        to_wgs84(lon, lat, source="gcj02", where="设施.csv")
    msg = str(info.value)
    assert "设施.csv" in msg
    assert "1 point(s) lie outside China" in msg
    assert "row 2" in msg and "lon=24.938400" in msg
    assert "swapped" in msg


def test_swapped_lonlat_is_refused() -> None:
    with pytest.raises(StudyAreaError, match=r"row 1, lon=31\.208900, lat=107\.498700.*swapped"):
        to_wgs84(DAZHOU[1], DAZHOU[0], source="bd09")


@pytest.mark.parametrize("source", ["gaode", "amap", "EPSG:4326", "gcj"])
def test_unknown_source_raises_crs_error(source: str) -> None:
    with pytest.raises(CRSError, match=r"unknown coordinate offset .*gcj02 = Amap/Gaode"):
        to_wgs84(*DAZHOU, source=source)


# ----------------------------------------------------------------------------- metric CRS


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (107.5, 31.2, 4545),  # Dazhou: CGCS2000 3-degree GK CM 108E
        (104.07, 30.67, 4544),  # Chengdu: CM 105E
        (116.4, 39.9, 4548),  # Beijing: CM 117E
        (24.94, 60.17, 32635),  # Helsinki: UTM 35N
        (151.21, -33.87, 32756),  # Sydney: UTM 56S
    ],
)
def test_metric_crs_for(lon: float, lat: float, epsg: int) -> None:
    crs = metric_crs_for(lon, lat)
    assert crs.to_epsg() == epsg
    assert crs.is_projected
    assert crs.axis_info[0].unit_name == "metre"


def test_metric_crs_for_dazhou_is_cm_108e() -> None:
    assert "CM 108E" in metric_crs_for(*DAZHOU).name


def test_metric_crs_for_rejects_non_finite() -> None:
    with pytest.raises(CRSError, match="not a finite"):
        metric_crs_for(float("nan"), 31.2)


# ----------------------------------------------------------------------------- docstrings


@pytest.mark.parametrize("name", ["to_wgs84", "metric_crs_for"])
def test_docstring_examples(name: str) -> None:
    tests = [t for t in doctest.DocTestFinder().find(coords) if t.name == f"{coords.__name__}.{name}"]
    assert len(tests) == 1 and tests[0].examples
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(tests[0], out=lambda text: None)
    assert result.attempted > 0
    assert result.failed == 0

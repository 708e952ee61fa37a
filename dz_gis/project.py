"""Project files: one YAML file that names a planner's own data and what to do with it.

:func:`load_project` reads and checks a project file (``dz-gis run project.yaml``) into a
:class:`Project`; every mistake is a :class:`~dz_gis.ValidationError` that names the key and
the fix. :func:`project_template` is the commented file ``dz-gis init`` writes. The runner
that carries a project out is :mod:`dz_gis.runner`.

A project file::

    name: 通川区 15分钟生活圈
    study_area: {district: 通川区}         # or a polygon file, or left out
    communities: communities.gpkg          # 社区 polygons
    compounds: {file: compounds.shp, encoding: gbk}          # 小区
    facilities: {file: facilities.csv, coords: gcj02}        # 设施 (or a list of files)
    network: {file: dazhou.osm.pbf}        # or {online: true}, {place: ..., online: true}
    rules: dazhou_2021_2025                # a shipped rules file or a path
    minutes: [5, 10, 15]
    siting: {elderly_care: {}, toilets: {p: 3}}
    outputs: {folder: out, web_map: true, folio: true}

Relative paths are relative to the project file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import yaml

from ._errors import DataFileError, DownloadError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = [
    "InputSpec",
    "NetworkSpec",
    "Project",
    "graph_loader",
    "known_districts",
    "layers_loader",
    "load_project",
    "network_name",
    "project_template",
    "study_area_frame",
]

#: Top-level keys of a project file, and what each holds (shown when a key is unknown).
TOP_KEYS = {
    "name": "a title for the outputs",
    "study_area": "{district: 通川区}, or a polygon file",
    "communities": "社区 polygons: a file, or {file:, layer:, columns:, coords:, encoding:, header_row:}",
    "compounds": "小区 points or polygons with households, same form as communities",
    "facilities": "设施 points, same form (plus category:, unknown_categories:), or a list of them",
    "network": "{file: x.osm.pbf} or {online: true} / {place: ..., online: true} / {boundary: file, online: true}",
    "rules": "a shipped rules file name (dazhou_2021_2025, gb50180_2018) or a path",
    "register": "a register CSV to check the communities against (default: the one the rules name)",
    "minutes": "walking bands, e.g. [5, 10, 15]",
    "siting": "{elderly_care: {p:}, toilets: {p:}}",
    "outputs": "{folder: out, web_map: true, folio: true, tiles: OpenStreetMap, tiles_attribution: ...}",
    "attribution": "the data credit printed on the map and folio",
    "surveyed": "categories whose lists are complete: none listed = none built (a gap), e.g. [社区养老服务综合体]",
}
INPUT_KEYS = {"file", "layer", "columns", "coords", "encoding", "header_row"}
FACILITY_KEYS = INPUT_KEYS | {"category", "unknown_categories"}
NETWORK_KEYS = {"file", "online", "place", "boundary", "dem", "slope_model", "walk_m_per_min", "buffer_m", "cache"}
SITING_KEYS = {"elderly_care": {"p", "capacity", "walk_m_per_min"}, "toilets": {"p", "new_residential"}}
OUTPUT_KEYS = {"folder", "web_map", "folio", "tiles", "tiles_attribution"}
#: coordinate systems a project may name, besides an EPSG code (EPSG:4547, 4547)
COORDS = ("wgs84", "gcj02", "bd09", "cgcs2000")
_EPSG = re.compile(r"^(epsg:)?\d{4,6}$", re.IGNORECASE)


@dataclass
class InputSpec:
    """One input file and how to read it (keyword arguments of :func:`dz_gis.read_communities` ...)."""

    path: Path
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class NetworkSpec:
    """Where the walking network comes from: a local OSM file, or online (place name or polygon)."""

    file: Path | None = None
    place: str | None = None
    boundary: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)  #: buffer_m, walk_m_per_min, dem, slope_model, cache


@dataclass
class Project:
    """A checked project file, every path absolute."""

    path: Path
    name: str
    communities: InputSpec
    compounds: InputSpec
    facilities: list[InputSpec]
    network: NetworkSpec
    study_area: Path | str | None = None  #: a polygon file, or a Dazhou district name
    rules: str | Path | None = None
    register: Path | None = None
    minutes: list[int] = field(default_factory=lambda: [5, 10, 15])
    siting: dict[str, dict[str, Any]] = field(default_factory=dict)
    out: Path = Path("out")
    web_map: bool = True
    folio: bool = True
    attribution: str = "© OpenStreetMap contributors (ODbL 1.0)"
    tiles: str = "OpenStreetMap"  #: the web map's online base (a folium name or a URL template)
    tiles_attribution: str | None = None
    #: categories whose facility lists are complete (check_plan(surveyed=)), as catalog ids
    surveyed: list[str] = field(default_factory=list)


def load_project(path: str | Path) -> Project:
    """Read and check a project file.

    Raises
    ------
    DataFileError
        If the project file or a file it names does not exist, or the YAML cannot be read.
    ValidationError
        If a key is unknown or a value unusable; the message names the key and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: project file not found (项目文件不存在). Write one with `dz-gis init {path}`.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise DataFileError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    except UnicodeDecodeError:
        raise DataFileError(f"{path}: not UTF-8 text; save the project file as UTF-8.") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: a project file is a YAML mapping of keys ({', '.join(TOP_KEYS)}).")
    return _project(path.resolve(), data)


def _project(path: Path, data: dict[str, Any]) -> Project:
    unknown = [str(k) for k in data if k not in TOP_KEYS]
    if unknown:
        known = "\n".join(f"  {k}: {v}" for k, v in TOP_KEYS.items())
        close = [m for k in unknown for m in difflib.get_close_matches(k, TOP_KEYS, n=1)]
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValidationError(f"{path}: unknown key(s) {unknown} (未知的键).{hint} The known keys:\n{known}")
    for key in ("communities", "compounds", "facilities", "network"):
        if data.get(key) in (None, "", [], {}):
            raise ValidationError(f"{path}: {key}: missing; {TOP_KEYS[key]}. See `dz-gis init` for an example.")
    base = path.parent
    facilities = data["facilities"] if isinstance(data["facilities"], list) else [data["facilities"]]
    outputs = _mapping(path, "outputs", data.get("outputs") or {}, OUTPUT_KEYS)
    return Project(
        path=path,
        name=str(data.get("name") or path.stem),
        communities=_input(path, "communities", data["communities"], INPUT_KEYS),
        compounds=_input(path, "compounds", data["compounds"], INPUT_KEYS),
        facilities=[_input(path, f"facilities[{i}]", f, FACILITY_KEYS) for i, f in enumerate(facilities)],
        network=_network(path, data["network"]),
        study_area=_study_area(path, data.get("study_area")),
        rules=_rules(path, data.get("rules")),
        register=_file(path, "register", data["register"]) if data.get("register") else None,
        minutes=_minutes(path, data.get("minutes", [5, 10, 15])),
        siting=_siting(path, data.get("siting") or {}),
        out=base / str(outputs.get("folder", "out")),
        web_map=_flag(path, "outputs.web_map", outputs.get("web_map", True)),
        folio=_flag(path, "outputs.folio", outputs.get("folio", True)),
        attribution=str(data.get("attribution") or Project.attribution),
        **_tiles(path, outputs),
        surveyed=_surveyed(path, data.get("surveyed") or []),
    )


def _surveyed(path: Path, value: Any) -> list[str]:
    """Category names or ids, checked against the catalog."""
    from .catalog import default_catalog

    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValidationError(f"{path}: surveyed: expected a list of facility categories, e.g. [社区养老服务综合体].")
    return default_catalog().resolve_all(items, where=f"{path}: surveyed")  # CategoryError names the unknown


def _tiles(path: Path, outputs: dict[str, Any]) -> dict[str, Any]:
    tiles = str(outputs.get("tiles") or "OpenStreetMap")
    credit = outputs.get("tiles_attribution")
    if "{" in tiles and not credit:
        raise ValidationError(
            f"{path}: outputs.tiles is a tile URL; add outputs.tiles_attribution: the credit its provider "
            "asks for (底图版权说明), e.g. '© 天地图'."
        )
    return {"tiles": tiles, "tiles_attribution": None if credit is None else str(credit)}


def _mapping(path: Path, key: str, value: Any, known: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(f"{path}: {key}: expected a mapping with the keys {sorted(known)}, not {value!r}.")
    unknown = [str(k) for k in value if k not in known]
    if unknown:
        raise ValidationError(f"{path}: {key}: unknown key(s) {unknown}; the known ones are {sorted(known)}.")
    return dict(value)


def _file(path: Path, key: str, value: Any) -> Path:
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValidationError(f"{path}: {key}: expected a file path, not {value!r}.")
    file = (path.parent / str(value).strip()).resolve()
    if not file.exists():
        raise DataFileError(
            f"{path}: {key}: file {file} not found (文件不存在). Paths are relative to the project file's folder."
        )
    return file


def _input(path: Path, key: str, value: Any, known: set[str]) -> InputSpec:
    spec: dict[str, Any] = {"file": value} if isinstance(value, str) else _mapping(path, key, value, known)
    if "file" not in spec:
        raise ValidationError(f"{path}: {key}: missing file: (the path of the data file).")
    options = {k: v for k, v in spec.items() if k != "file" and v is not None}
    if "coords" in options:
        options.update(_coords(path, f"{key}.coords", options.pop("coords")))
    if "columns" in options and not (
        isinstance(options["columns"], dict) and all(isinstance(v, str) for v in options["columns"].values())
    ):
        raise ValidationError(
            f"{path}: {key}.columns: expected {{standard_name: column_in_file}}, e.g. {{name: 名称}}."
        )
    if "header_row" in options and (not isinstance(options["header_row"], int) or options["header_row"] < 1):
        raise ValidationError(f"{path}: {key}.header_row: expected a row number as Excel shows it (1, 2, ...).")
    return InputSpec(_file(path, f"{key}.file", spec["file"]), options)


def _coords(path: Path, key: str, value: Any) -> dict[str, Any]:
    """``coords=`` (web offsets) or ``crs=`` (an EPSG code) for the readers."""
    text = str(value).strip()
    if _EPSG.match(text):
        return {"crs": f"EPSG:{text.split(':')[-1]}"}
    from .io.files import COORDINATE_WORDS

    word = text.lower().replace("-", "").replace("_", "").replace(" ", "")
    if word not in COORDINATE_WORDS:
        raise ValidationError(
            f"{path}: {key}: {value!r} is not a coordinate system dz_gis knows. Use one of {', '.join(COORDS)} "
            "(gcj02 = 高德/腾讯, bd09 = 百度, cgcs2000 = 天地图 lon/lat) or an EPSG code such as EPSG:4547."
        )
    if COORDINATE_WORDS[word] == "wgs84" and word == "cgcs2000":
        return {"crs": "EPSG:4490"}  # CGCS2000 lon/lat; within centimetres of WGS84
    return {"coords": COORDINATE_WORDS[word]}


def _network(path: Path, value: Any) -> NetworkSpec:
    spec: dict[str, Any] = {"file": value} if isinstance(value, str) else _mapping(path, "network", value, NETWORK_KEYS)
    online = _flag(path, "network.online", spec.pop("online", False))
    file, place, boundary = spec.pop("file", None), spec.pop("place", None), spec.pop("boundary", None)
    if file is not None and (place is not None or boundary is not None or online):
        raise ValidationError(
            f"{path}: network: give either file: (a local .osm.pbf) or online: true (with place: or boundary:), "
            "not both."
        )
    if file is None and not online:
        raise ValidationError(
            f"{path}: network: no file: given and online: is not true. Name a local OpenStreetMap extract "
            "(network: {file: city.osm.pbf}), or allow the download (network: {online: true}), which needs the "
            "internet."
        )
    if place is not None and boundary is not None:
        raise ValidationError(f"{path}: network: give place: or boundary:, not both.")
    options = {k: v for k, v in spec.items() if v is not None}
    if "dem" in options:
        options["dem"] = _file(path, "network.dem", options["dem"])
    for key, unit, positive in (("buffer_m", "metres", False), ("walk_m_per_min", "metres per minute", True)):
        if key not in options:
            continue
        value = options[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or value < 0 or (positive and value == 0):
            least = "more than zero" if positive else "zero or more"
            raise ValidationError(f"{path}: network.{key}: expected a number of {unit}, {least}, not {value!r}.")
    return NetworkSpec(
        file=_file(path, "network.file", file) if file is not None else None,
        place=str(place) if place is not None else None,
        boundary=_file(path, "network.boundary", boundary) if boundary is not None else None,
        options=options,
    )


def _study_area(path: Path, value: Any) -> Path | str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        spec = _mapping(path, "study_area", value, {"district", "file"})
        if "district" in spec:
            name = str(spec["district"])
            if name not in known_districts():
                raise ValidationError(
                    f"{path}: study_area.district: {name!r} is not a Dazhou district; "
                    f"known: {', '.join(known_districts())}. Elsewhere, give a polygon file "
                    "(study_area: {file: boundary.gpkg})."
                )
            return name
        value = spec.get("file")
    return _file(path, "study_area", value)


def _rules(path: Path, value: Any) -> str | Path | None:
    """A shipped rules file's name (dazhou_2021_2025) stays a name; a file name is a path."""
    if value is None:
        return None
    if Path(str(value)).suffix or (path.parent / str(value)).exists():
        return _file(path, "rules", value)
    return str(value)


def _minutes(path: Path, value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 60 for v in values):
        raise ValidationError(
            f"{path}: minutes: expected whole minutes between 1 and 60, e.g. [5, 10, 15]; got {value!r}."
        )
    return sorted(set(values))


def _siting(path: Path, value: Any) -> dict[str, dict[str, Any]]:
    presets = _mapping(path, "siting", value, set(SITING_KEYS))
    out = {}
    for name, options in presets.items():
        opts = _mapping(path, f"siting.{name}", options or {}, SITING_KEYS[name])
        p = opts.get("p")
        if p is not None and (not isinstance(p, int) or isinstance(p, bool) or p < 1):
            raise ValidationError(f"{path}: siting.{name}.p: expected how many new sites (1, 2, ...), not {p!r}.")
        column = opts.get("new_residential")
        if column is not None and not isinstance(column, str):
            raise ValidationError(
                f"{path}: siting.{name}.new_residential: expected the name of a yes/no column of the community "
                f"layer, not {column!r}."
            )
        out[name] = opts
    return out


def _flag(path: Path, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{path}: {key}: expected true or false, not {value!r}.")
    return value


def known_districts() -> list[str]:
    """Names of Dazhou's 7 county-level districts, as shipped (:func:`dz_gis.load_dazhou_boundaries`)."""
    from .datasets import load_dazhou_boundaries

    return [str(n) for n in load_dazhou_boundaries()["name"]]


_TEMPLATE = """\
# dz-gis project file (项目文件). Run it with:  dz-gis run {filename}
# Paths are relative to this file's folder (路径相对于本文件所在文件夹).
# Coordinate systems (坐标系), key coords: wgs84 (GPS, OpenStreetMap), cgcs2000 (天地图 lon/lat),
# gcj02 (高德/腾讯 Amap/Tencent), bd09 (百度 Baidu), or an EPSG code for projected data (EPSG:4547).

name: {name}                 # title of the outputs (成果名称)
{study_area}
# Communities (社区): polygons with community_id / name / street (街道) / households (户数).
# Any of: GeoPackage, GeoJSON, Shapefile (.shp or .zip), KML, with layer: for a multi-layer file.
communities:
  file: communities.gpkg
  # layer: communities       # layer of a GeoPackage / sheet of an Excel file (图层/工作表)
  # columns: {{name: 社区名称, households: 户数}}   # standard name: column in your file (列名映射)

# Residential compounds (小区/院落): points or polygons with households (户数) or population (人口).
compounds:
  file: compounds.shp
  encoding: gbk              # text encoding of a Shapefile's .dbf or a CSV (GBK is detected too)

# Facilities (设施): points with a category (类型) the catalog knows (幼儿园, 社区卫生服务站 ...).
# A table (CSV/Excel) needs lon/lat columns (经度/纬度) and its coordinate system.
# Several files: a list, e.g. one per department (各部门的设施清单).
facilities:
  - file: facilities.csv
    coords: gcj02            # Amap/Gaode export (高德坐标)
  # - file: kindergartens.xlsx
  #   coords: gcj02
  #   header_row: 2          # row of the column names when a title row comes first (表头所在行)
  #   category: 幼儿园        # every row of this file is one category (本文件全部为同一类设施)

# Walking network (步行路网) from OpenStreetMap.
{network}
  # dem: dem.tif             # elevation raster: slope-aware walking times (坡度)
  # walk_m_per_min: 67       # walking speed, m/min (步行速度)

# Rules (规划指标): a shipped rules file (dazhou_2021_2025: the Dazhou community plan 2021-2025;
# gb50180_2018: the national life-circle standard) or the path of your own.
rules: dazhou_2021_2025
{register}
# Walking bands in minutes (5/10/15分钟生活圈).
minutes: [5, 10, 15]

# Proposed sites (选址建议), each an exact covering model (MCLP).
siting:
  elderly_care: {{}}           # 社区养老服务综合体: p defaults to the streets (街道) that lack one
  toilets: {{p: 3}}            # 公共厕所: p new toilets; new_residential: <column> gives each marked
                               # new residential community (新建居住社区) without one a toilet

# Outputs (成果): tables (CSV), GeoPackage for QGIS, web map (网页地图) and the folio PDF (图册).
outputs:
  folder: out
  web_map: true
  folio: true
  # online base tiles of the web map, shown when reachable (else the offline base): a name, or a
  # WGS84 / Web Mercator tile URL with its credit. Not Amap (高德) or Baidu tiles: they are offset.
  # tiles: "https://t0.tianditu.gov.cn/vec_w/wmts?...&tk=YOUR_KEY"
  # tiles_attribution: "© 天地图"
  tiles: OpenStreetMap

attribution: "© OpenStreetMap contributors (ODbL 1.0)"   # data credit on maps (数据来源)

# Categories whose lists above are complete (e.g. the civil-affairs register of 养老服务综合体):
# where none is listed, none is built, and the rules read gap (缺口) instead of no data (无数据).
# Leave it empty for OpenStreetMap data: absent from OSM is not absent on the ground.
surveyed: []
"""


def project_template(filename: str = "project.yaml", district: str | None = None) -> str:
    """The commented project file ``dz-gis init`` writes; ``district`` pre-fills it for that Dazhou district.

    Raises
    ------
    ValidationError
        If ``district`` is not one of :func:`known_districts`.
    """
    if district is None:
        return _TEMPLATE.format(
            filename=filename,
            name="My 15-minute life circles (15分钟社区生活圈)",
            study_area=(
                "# Study area (研究范围): a Dazhou district ({district: 通川区}) or a polygon file;\n"
                "# the network is clipped to it (plus 1 km) and features far outside it are an error.\n"
                "# study_area: {file: boundary.gpkg}\n"
            ),
            network=(
                "# A local extract works offline (离线): an .osm.pbf, e.g. from download.geofabrik.de.\n"
                "# Or online (需要联网): network: {online: true} for the study area, or place: a place name.\n"
                "network:\n  file: network.osm.pbf"
            ),
            register="# register: my_register.csv   # 区划名录 to check community names against (default: the rules')\n",  # noqa: E501
        )
    districts = known_districts()
    if district not in districts:
        raise ValidationError(
            f"unknown district {district!r} (未知区县); the Dazhou districts are: {', '.join(districts)}."
        )
    return _TEMPLATE.format(
        filename=filename,
        name=f"{district} 15分钟社区生活圈",
        study_area=(
            "# Study area (研究范围): the district boundary shipped with dz_gis (Amap, converted to WGS84).\n"
            f"study_area: {{district: {district}}}\n"
        ),
        network=(
            "# Downloaded for the study area (plus 1 km) and cached; needs the internet (需要联网).\n"
            "# Offline: put an .osm.pbf here instead, network: {file: china-latest.osm.pbf}.\n"
            "network:\n  online: true"
        ),
        register=(
            "# The community names are checked against the 2023 statistics register of Dazhou (区划名录),\n"
            "# shipped with dz_gis and named by the Dazhou rules; give register: file.csv for another.\n"
        ),
    )


# ----------------------------------------------------------------------------- reading a project's data


def study_area_frame(project: Project) -> gpd.GeoDataFrame | None:
    """The study area in WGS84: the shipped district boundary, or the polygon file's features."""
    from .datasets import load_dazhou_boundaries
    from .io import read_table

    if project.study_area is None:
        return None
    if isinstance(project.study_area, str):
        districts = load_dazhou_boundaries()
        return districts[districts["name"] == project.study_area].reset_index(drop=True)
    return read_table(project.study_area)


def layers_loader(project: Project) -> Callable[[], tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    """A function that reads the project's communities, compounds and facilities with the public readers."""
    from .io import read_communities, read_compounds, read_facilities

    def load() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
        area = study_area_frame(project)
        communities = read_communities(project.communities.path, study_area=area, **project.communities.options)
        compounds = read_compounds(project.compounds.path, study_area=area, **project.compounds.options)
        parts = [read_facilities(s.path, study_area=area, **s.options) for s in project.facilities]
        if len(parts) == 1:
            return communities, compounds, parts[0]
        # ids are per file; prefix them with the file's name so that they stay unique
        for spec, part in zip(project.facilities, parts, strict=True):
            part["facility_id"] = spec.path.stem + "/" + part["facility_id"].astype(str)
        facilities = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)
        dup = facilities["facility_id"].duplicated()
        if dup.any():
            raise ValidationError(
                f"{project.path}: facilities: the id(s) {sorted(facilities.loc[dup, 'facility_id'])[:5]} occur twice; "
                "two facility files have the same name. Rename one."
            )
        return communities, compounds, facilities

    return load


def network_name(project: Project) -> str:
    """Where the project's network comes from, in words."""
    spec = project.network
    if spec.file is not None:
        return spec.file.name
    what = spec.place or (spec.boundary.name if spec.boundary else None) or project.study_area or "the communities"
    return f"OpenStreetMap online (联网下载) for {what}"


def graph_loader(project: Project) -> Callable[[], nx.MultiDiGraph]:
    """A function that builds (or reloads from the cache) the project's walking graph."""
    from .io import read_communities, read_table
    from .network import walk_graph_from_file, walk_graph_from_place

    spec = project.network

    def load() -> nx.MultiDiGraph:
        area = study_area_frame(project)
        if spec.file is not None:
            return walk_graph_from_file(spec.file, polygon=area, **spec.options)
        query: Any = spec.place
        if query is None:
            query = read_table(spec.boundary) if spec.boundary is not None else area
        if query is None:  # no study area: the extent of the communities
            c = project.communities
            query = read_communities(c.path, **c.options)
        try:
            return walk_graph_from_place(query, **spec.options)
        except DownloadError as exc:
            raise DownloadError(
                f"{exc}\n{project.path}: network: online: true needs the internet (需要联网). Without it, download "
                "an OpenStreetMap extract (.osm.pbf) and name the local file instead: network: {file: city.osm.pbf}."
            ) from None

    return load

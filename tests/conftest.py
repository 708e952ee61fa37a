import geopandas as gpd
import networkx as nx
import pytest
import shapely

CRS = "EPSG:32648"


def make_graph(edges, coords, *, crs=CRS):
    """A walking graph by hand: edges are (u, v, walk_s) and are directed as given."""
    g = nx.MultiDiGraph(crs=crs, walk_m_per_min=60.0)
    for n, (x, y) in coords.items():
        g.add_node(n, x=float(x), y=float(y))
    for u, v, s in edges:
        geom = shapely.LineString([coords[u], coords[v]])
        g.add_edge(u, v, length=geom.length, walk_s=float(s), geometry=geom)
    return g


@pytest.fixture
def line_graph():
    """0 —— 1 —— 2 —— 3 along x, 60 m apart; uphill 0→3 is slower (90 s) than downhill (60 s)."""
    coords = {i: (i * 60.0, 0.0) for i in range(4)}
    edges = []
    for i in range(3):
        edges += [(i, i + 1, 90.0), (i + 1, i, 60.0)]
    return make_graph(edges, coords)


def points(xy, crs=CRS, **cols):
    return gpd.GeoDataFrame(cols, geometry=[shapely.Point(p) for p in xy], crs=crs)


@pytest.fixture(scope="session")
def sample():
    from dz_gis.datasets import load_sample

    return load_sample()


@pytest.fixture(scope="session")
def demo_outputs(sample, tmp_path_factory):
    """What ``dz-gis demo`` writes (no web map): ``({GeoPackage layer: frame written}, folder)``."""
    from dz_gis.outputs import write_outputs
    from dz_gis.outputs.geopackage import gap_layers
    from dz_gis.pipeline import check_plan, run_coverage
    from dz_gis.plan import load_rules

    run = run_coverage(sample.graph, sample.communities, sample.compounds, sample.facilities)
    check = check_plan(run, load_rules())
    out = tmp_path_factory.mktemp("demo")
    write_outputs(run, check, out, web_map=False)
    layers = {"communities": run.communities, "compounds": run.compounds, "facilities": run.facilities}
    layers |= {"isochrones": run.isochrones.to_crs(4326), **gap_layers(check.gaps)}
    return layers, out

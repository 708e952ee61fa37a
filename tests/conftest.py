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

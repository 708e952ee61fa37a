"""The virtual-source graph reuses one copy of the graph's arrays per thread, and stays right."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.sparse.csgraph import dijkstra

from dz_gis.network.prepared import prepare


def reference(net, cols, secs):
    """The same search on a graph built from scratch (a fresh concatenation, as before)."""
    import scipy.sparse as sp

    n = net.n
    first = np.full(n, np.inf)
    np.minimum.at(first, cols, secs)
    hit = np.flatnonzero(np.isfinite(first))
    extra = sp.csr_matrix((first[hit], (np.zeros(len(hit), dtype=np.int64), hit)), shape=(1, n + 1))
    base = sp.csr_matrix((net.csr_data, net.csr_indices, net.csr_indptr[: n + 1]), shape=(n, n + 1))
    return dijkstra(sp.vstack([base, extra]).tocsr(), directed=True, indices=n, limit=600.0)[:n]


def test_searches_from_a_virtual_source_reuse_the_arrays_and_agree(sample):
    net = prepare(sample.graph)
    rng = np.random.default_rng(3)
    draws = [(rng.choice(net.n, size=k), rng.uniform(0, 60, size=k)) for k in (5, 40, 5, 3000, 1)]
    first = net.with_source(*draws[0])
    for cols, secs in draws:
        got = dijkstra(net.with_source(cols, secs), directed=True, indices=net.n, limit=600.0)[: net.n]
        assert np.allclose(got, reference(net, cols, secs), equal_nan=True)
    again = net.with_source(*draws[2])
    assert np.shares_memory(first.data, again.data)  # one copy per thread, not one per call
    # the graph's own arrays are never written
    assert net.csr_indptr[-1] == len(net.csr_data)

    def search(k):
        cols, secs = draws[k % len(draws)]
        return k, dijkstra(net.with_source(cols, secs), directed=True, indices=net.n, limit=600.0)[: net.n]

    with ThreadPoolExecutor(max_workers=4) as pool:  # each thread writes its own copy
        for k, got in pool.map(search, range(20)):
            cols, secs = draws[k % len(draws)]
            assert np.allclose(got, reference(net, cols, secs), equal_nan=True)

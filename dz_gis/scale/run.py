"""Coverage runs partitioned by county, district or street on Dask: the same numbers as one machine.

:func:`run_partitioned` sends one task per partition to a Dask cluster (a local one by default):
each task builds its own walking network on its worker from the OSM file(s), clipped to the
partition with a walking halo, and computes its coverage (:mod:`dz_gis.scale.task`). The
results come back as tables, are kept on disk per partition (:mod:`dz_gis.scale.store`), and are
merged into one :class:`~dz_gis.pipeline.CoverageRun`; the plan check then runs on the merged
run, since street and city rules need the whole.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import settings
from .._errors import DzGisError, ValidationError
from ..catalog import Catalog, default_catalog
from ..coords import metric_crs_for
from ..pipeline import HORIZON_BANDS, CoverageRun, PlanCheck, check_plan, prepared_layers
from ..plan import RuleSet, load_rules
from .merge import merge_results
from .parts import Partition, fastest_factor, halo_metres, network_sources, require_partition_column, split
from .store import frame_digest, load_result, partition_key, save_result, source_stamp
from .task import run_partition

__all__ = ["INSTALL_HINT", "PartitionedRun", "run_partitioned"]

logger = logging.getLogger(__name__)

#: What to do when Dask is missing.
INSTALL_HINT = (
    "run_partitioned needs Dask (dask.distributed); install the extra: pip install 'dz_gis[scale]' "
    "(or: conda install -c conda-forge dask distributed). 分区计算需要安装 Dask。"
)
#: Options of the walking network (:func:`dz_gis.walk_graph_from_file`) and of the run (:func:`dz_gis.run_coverage`).
NETWORK_OPTIONS = ("crs", "walk_m_per_min", "dem", "slope_model")
RUN_OPTIONS = ("minutes", "catalog", "max_snap_m", "with_isochrones")


@dataclass
class PartitionedRun:
    """Result of :func:`run_partitioned`: the merged run, its plan check and a report per partition."""

    run: CoverageRun  #: the partitions that finished, merged (every row of theirs, in the layers' order)
    check: PlanCheck | None  #: on the merged run; None when a partition failed (street and city rules need all)
    #: one row per partition: ``status`` (done, cached, failed), ``error``, its layers' sizes, the network's
    #: ``nodes`` and ``edges``, ``seconds``, the worker and ``peak_rss_mb``: the worker process's peak
    #: resident memory while it computed the partition; ``cut_off``: its points by streets the halo cut off
    report: pd.DataFrame
    halo_min: float  #: walking times up to this are exact; longer ones are reported as beyond (empty)
    halo_m: float  #: the network of each partition reaches this far beyond it

    @property
    def failed(self) -> dict[str, str]:
        """Partitions that failed, with their error."""
        bad = self.report[self.report["status"] == "failed"]
        return dict(zip(bad["partition"], bad["error"], strict=True))

    @property
    def complete(self) -> bool:
        """Whether every partition finished."""
        return not self.failed

    @property
    def workers(self) -> pd.DataFrame:
        """Peak resident memory (MB) per worker over the partitions it computed in this run."""
        done = self.report[self.report["status"] == "done"]
        return done.groupby("worker").agg(partitions=("partition", "size"), peak_rss_mb=("peak_rss_mb", "max"))


def run_partitioned(
    network: str | Path,
    communities: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    partition_by: str = "district",
    halo_min: float | None = None,
    client: Any = None,
    rules: RuleSet | str | None = None,
    register: pd.DataFrame | None = None,
    cache: bool = True,
    **run_options: Any,
) -> PartitionedRun:
    """Coverage of a whole province, one Dask task per county, district or street; the same numbers as one run.

    Parameters
    ----------
    network
        An OpenStreetMap file (``.osm.pbf``, ``.osm``) or a folder of them (tiles of one region). Each
        task builds its partition's walking network from it on its worker (the path must be readable
        there), clipped to the partition's communities and compounds plus the halo.
    communities, compounds, facilities
        The whole study area's layers, as for :func:`dz_gis.run_coverage`.
    partition_by
        The community layer's column whose values are the partitions (``district``, ``street`` …).
    halo_min
        Walking minutes around each partition its network covers. Times up to it are exact, so
        facilities across the border count; longer ones are left empty (beyond). The default, the
        horizon a single run computes times to (4 × the longest band), gives every table of a
        single run; the longest band (15) is enough for the coverage shares and the gap flags and
        builds smaller networks, but medians and walks beyond it are then reported as beyond.
    client
        A ``dask.distributed.Client`` (``Client("tcp://scheduler:8786")`` for a cluster); None starts
        a local cluster of one single-threaded worker process per core (at most one per partition).
    rules, register
        For the plan check on the merged run (:func:`dz_gis.check_plan`; default the Dazhou plan).
    cache
        Keep each partition's result in ``dz_gis.settings.cache_folder`` and reuse it when its inputs
        are unchanged, so a rerun computes only the failed or changed partitions.
    **run_options
        ``minutes``, ``catalog``, ``max_snap_m``, ``with_isochrones`` (as :func:`dz_gis.run_coverage`)
        and the network's ``crs``, ``walk_m_per_min``, ``dem``, ``slope_model`` (as
        :func:`dz_gis.walk_graph_from_file`; a DEM must be readable on the workers).

    Returns
    -------
    PartitionedRun
        ``.run`` and ``.check`` as from a single run; ``.report`` per partition; ``.failed``.
    """
    sources = network_sources(network)
    net_opts, run_opts = _options(run_options)
    # checked, linked and warned about once for the whole, as a single run does
    catalog: Catalog = run_opts["catalog"] or default_catalog()
    communities, compounds, facilities = prepared_layers(communities, compounds, facilities, catalog)
    require_partition_column(communities, partition_by)
    minutes = tuple(int(m) for m in run_opts["minutes"])
    full = float(max(minutes) * HORIZON_BANDS)  # how far a single run computes times
    halo = full if halo_min is None else float(halo_min)
    if halo < max(minutes):
        raise ValidationError(f"halo_min={halo:g} is shorter than the longest band ({max(minutes)} min).")
    horizon = min(halo, full)  # times are known to here, as in a single run when the halo is the default
    if net_opts["crs"] is None:  # one CRS for every partition, chosen for the whole area
        centre = communities.to_crs(4326).union_all().centroid
        net_opts["crs"] = metric_crs_for(centre.x, centre.y)
    factor = fastest_factor(net_opts["slope_model"], net_opts["dem"])
    halo_m = halo_metres(halo, net_opts["walk_m_per_min"], factor, run_opts["max_snap_m"])
    parts, home, home_m = split(
        communities, compounds, facilities, partition_by=partition_by, metric=net_opts["crs"], halo_m=halo_m
    )
    logger.info("%d partitions by %s, halo %.0f min = %.0f m", len(parts), partition_by, halo, halo_m)
    job = _Job(sources, parts, communities, compounds, facilities, net_opts, run_opts, horizon, halo_m, cache)
    results, report = job.compute(client)
    if not results:
        lines = "; ".join(f"{p}: {e}" for p, e in zip(report["partition"], report["error"], strict=True))
        raise DzGisError(f"every partition failed (所有分区均失败): {lines}")
    run = merge_results(
        *(parts, results, home, communities, compounds, facilities),
        catalog=catalog,
        minutes=minutes,
        home_m=home_m,
        joined_within_m=halo_m - run_opts["max_snap_m"],
        horizon_min=horizon,
    )
    check = None
    if len(results) == len(parts):
        ruleset = load_rules() if rules is None else load_rules(rules) if isinstance(rules, str | Path) else rules
        check = check_plan(run, ruleset, register=register, catalog=catalog)
    else:
        names = ", ".join(f"{p} ({e})" for p, e in zip(report["partition"], report["error"], strict=True) if e)
        warnings.warn(
            f"{len(parts) - len(results)} partition(s) failed: {names}. The run holds the others only and the "
            "plan check was not made (street and city rules need every partition); run again to compute only "
            "the failed ones. 部分分区计算失败，重新运行只计算失败的分区。",
            UserWarning,
            stacklevel=2,
        )
    return PartitionedRun(run, check, report, halo, halo_m)


def _options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    unknown = sorted(set(options) - set(NETWORK_OPTIONS) - set(RUN_OPTIONS))
    if unknown:
        raise ValidationError(
            f"run_partitioned got unknown option(s) {unknown}; it takes {', '.join(RUN_OPTIONS + NETWORK_OPTIONS)}."
        )
    net = {
        "crs": options.get("crs"),
        "walk_m_per_min": float(options.get("walk_m_per_min") or settings.walk_m_per_min),
        "dem": str(options["dem"]) if options.get("dem") is not None else None,
        "slope_model": options.get("slope_model", "tobler"),
    }
    run = {
        "minutes": tuple(options.get("minutes", (5, 10, 15))),
        "catalog": options.get("catalog"),
        "max_snap_m": float(options.get("max_snap_m", 250.0)),
        "with_isochrones": bool(options.get("with_isochrones", True)),
    }
    return net, run


def connect(client: Any, n_tasks: int) -> tuple[Any, Any]:
    """The client to use, and the local cluster started for it (None when one was given)."""
    try:
        import distributed
    except ImportError:
        raise DzGisError(INSTALL_HINT) from None
    if client is not None:
        return client, None
    workers = max(1, min(os.cpu_count() or 1, n_tasks))
    # one single-threaded process per core: the walking networks are built in Python, which
    # threads do not run in parallel; local addresses only
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    )
    return distributed.Client(cluster), cluster


class _Job:
    """The partitions' tasks: cached results, submission, collection and the report."""

    def __init__(self, sources: list[Path], parts: list[Partition], *frames_and_options: Any) -> None:
        self.sources, self.parts = sources, parts
        (self.comm, self.comp, self.fac, self.net_opts, self.run_opts, self.halo, self.halo_m, self.cache) = (
            frames_and_options
        )

    def layers(self, part: Partition) -> dict[str, gpd.GeoDataFrame]:
        return {
            "communities": self.comm.iloc[part.communities],
            "compounds": self.comp.iloc[part.compounds],
            "facilities": self.fac.iloc[part.facilities],
        }

    def key(self, part: Partition, layers: dict[str, gpd.GeoDataFrame]) -> str:
        stamps = [source_stamp(s) for s in self.sources] + [source_stamp(self.net_opts["dem"])]
        opts = {k: v for k, v in {**self.net_opts, **self.run_opts}.items() if k not in ("catalog", "dem")}
        opts["crs"] = str(opts["crs"])
        cat = self.run_opts["catalog"] or default_catalog()
        digests = [frame_digest(f) for f in layers.values()]
        return partition_key(part.name, stamps, digests, part.clip.wkb_hex, sorted(opts.items()), cat.ids, self.halo)

    def compute(self, client: Any) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
        """Results of the partitions that finished (by name) and the report of all."""
        results: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        status: dict[str, str] = {}
        todo = []
        for part in self.parts:
            layers = self.layers(part)
            key = self.key(part, layers)
            kept = load_result(key) if self.cache else None
            if kept is not None:
                results[part.name], status[part.name] = kept, "cached"
            else:
                todo.append((part, layers, key))
        if todo:
            self._submit(client, todo, results, errors, status)
        for name in results:
            for text in results[name]["warnings"]:
                warnings.warn(f"partition {name!r}: {text}", UserWarning, stacklevel=4)
        return results, self._report(results, errors, status)

    def _submit(self, client: Any, todo: list, results: dict, errors: dict, status: dict) -> None:
        import dask
        from distributed import as_completed

        client, cluster = connect(client, len(todo))
        try:
            futures = {}
            # the layers travel inside each task, so the scheduler can send them again when a worker
            # dies (data scattered to a worker dies with it); a part's layers are a few MB at most
            with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1GiB"}):
                for part, layers, key in todo:
                    clip = gpd.GeoSeries([part.clip], crs=self.net_opts["crs"]).to_crs(4326).iloc[0]
                    fut = client.submit(
                        run_partition,
                        *(part.name, [str(s) for s in self.sources], clip, layers),
                        clip_m=part.clip,
                        net_opts=self.net_opts,
                        run_opts=self.run_opts,
                        halo_min=self.halo,
                        halo_m=self.halo_m,
                        cache=self.cache,
                        key=f"dz-gis-partition-{key}",
                        pure=False,
                    )
                    futures[fut] = (part.name, key)
            for n, fut in enumerate(as_completed(futures), start=1):
                name, key = futures[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # the task's own error, a lost worker (KilledWorker), a cancellation
                    errors[name], status[name] = f"{type(exc).__name__}: {exc}", "failed"
                    logger.warning("[%d/%d] partition %r failed: %s", n, len(futures), name, errors[name])
                    continue
                results[name], status[name] = res, "done"
                if self.cache:
                    save_result(key, res)
                s = res["stats"]
                logger.info(
                    "[%d/%d] partition %r done in %.1f s: %d nodes, peak %.0f MB on %s",
                    *(n, len(futures), name, s["seconds"], s["nodes"], s["peak_rss_mb"], s["worker"]),
                )
        finally:
            if cluster is not None:
                client.close()
                cluster.close()

    def _report(self, results: dict, errors: dict, status: dict) -> pd.DataFrame:
        rows = []
        for part in self.parts:
            stats = results[part.name]["stats"] if part.name in results else {}
            rows.append(
                {
                    "partition": part.name,
                    "status": status.get(part.name, "failed"),
                    "error": errors.get(part.name, ""),
                    "communities": len(part.communities),
                    "compounds": len(part.compounds),
                    "facilities": len(part.facilities),
                    **{k: stats.get(k, np.nan) for k in ("nodes", "edges", "seconds", "peak_rss_mb", "cut_off")},
                    "worker": stats.get("worker", ""),
                }
            )
        return pd.DataFrame(rows)

"""The built wheel works on its own: installed into a fresh environment, the sample and the demo run.

The wheel is built from this checkout, installed (without its dependencies) into a new
virtual environment whose only other packages are this environment's third-party ones, and
run from a folder outside the checkout, so nothing can come from the source tree.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DZ_GIS_DATA"}}
    env["DZ_GIS_CACHE"] = str(tmp / "cache")
    # built from a copy, so no build/ folder is left in (or reused from) the checkout; building
    # fetches setuptools into pip's isolated build environment
    ignore = shutil.ignore_patterns(".venv", ".git", "out", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")
    shutil.copytree(ROOT, tmp / "src", ignore=ignore)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(tmp / "src")], tmp, env)
    wheel = next((tmp / "dist").glob("dz_gis-*.whl"))
    venv.create(tmp / "env", with_pip=True)
    python = tmp / "env" / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], tmp, env)
    # the dependencies come from this environment's site-packages (a .pth line adds the folder
    # without running its .pth files, so the editable dz_gis installed there stays invisible)
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp, env).stdout
    (Path(site.strip()) / "deps-of-the-test-environment.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return tmp, python, env


def test_wheel_carries_the_data_and_load_sample_reads_it(installed):
    tmp, python, env = installed
    code = (
        "import dz_gis\n"
        "from dz_gis.datasets import data_dir\n"
        "s = dz_gis.load_sample()\n"
        "print(dz_gis.__file__)\n"
        "print(data_dir())\n"
        "print(len(s.communities), len(s.compounds), len(s.facilities))\n"
        "print(len(dz_gis.load_rules()), len(dz_gis.read_register()))\n"
    )
    out = _run([str(python), "-c", code], tmp, env).stdout.splitlines()
    env_dir = str(tmp / "env")
    assert out[0].startswith(env_dir) and str(ROOT) not in out[0], out
    assert out[1].startswith(env_dir) and out[1].endswith("datasets/data"), out
    n_comm, n_comp, n_fac = map(int, out[2].split())
    assert n_comm >= 2 and n_comp > 10 and n_fac > 50
    n_rules, n_register = map(int, out[3].split())
    assert n_rules > 20 and n_register > 2000


def test_demo_runs_from_the_wheel(installed, sample):
    tmp, python, env = installed
    _run([str(tmp / "env" / "bin" / "dz-gis"), "demo", "--out", str(tmp / "out")], tmp, env)
    names = {p.name for p in (tmp / "out").iterdir()}
    assert {"coverage.gpkg", "gaps.csv", "indicators.csv", "register_by_district.csv", "coverage_map.html"} <= names
    gaps = pd.read_csv(tmp / "out" / "gaps.csv")
    assert set(gaps["unit_id"].astype(str)) >= set(sample.communities["community_id"])
    assert (gaps["status"] == "gap").any() and (gaps["status"] == "met").any()

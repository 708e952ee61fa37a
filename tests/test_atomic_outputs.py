"""A run's outputs are swapped in as a whole: never a mix of two runs, nothing left by a killed one."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from dz_gis._atomic import MANIFEST, atomic_folder


def write_set(target: Path, names: dict[str, str]) -> None:
    with atomic_folder(target) as work:
        for name, text in names.items():
            (work / name).write_text(text)


def leftovers(target: Path) -> list[str]:
    beside = (p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}."))
    return sorted(name for name in beside if not name.endswith(".lock"))


def test_a_new_run_replaces_the_whole_set(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "1", "b.csv": "1"})
    write_set(out, {"a.csv": "2"})
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.csv"]  # b.csv was the old run's
    assert (out / "a.csv").read_text() == "2"
    assert leftovers(out) == []


def test_the_folder_keeps_its_permissions(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "1"})
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # as a plain mkdir would make it, not private
    out.chmod(0o750)
    write_set(out, {"a.csv": "2"})
    assert out.stat().st_mode & 0o777 == 0o750


def test_a_failed_run_leaves_the_old_set(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "old"})
    with pytest.raises(RuntimeError), atomic_folder(out) as work:
        (work / "a.csv").write_text("half")
        raise RuntimeError("disk full")
    assert (out / "a.csv").read_text() == "old" and leftovers(out) == []


def test_a_folder_of_the_users_is_not_swapped_away(tmp_path):
    out = tmp_path / "project"
    out.mkdir()
    (out / "my_notes.docx").write_text("keep me")
    with pytest.warns(UserWarning, match="holds files no dz_gis run wrote.*my_notes.docx"):
        write_set(out, {"a.csv": "1"})
    assert (out / "my_notes.docx").read_text() == "keep me" and (out / "a.csv").read_text() == "1"


def test_leftovers_of_killed_runs_are_cleaned_and_an_interrupted_swap_undone(tmp_path):
    out = tmp_path / "out"
    write_set(out, {"a.csv": "1"})
    (tmp_path / ".out.new-dead").mkdir()
    (tmp_path / ".out.new-dead" / "a.csv").write_text("half")
    out.rename(tmp_path / ".out.old-123")  # killed between the two renames of the fallback swap
    with pytest.raises(RuntimeError), atomic_folder(out):
        assert (out / "a.csv").read_text() == "1"  # the old set is back before the new run starts
        raise RuntimeError("stop")
    assert (out / "a.csv").read_text() == "1" and leftovers(out) == []


def test_two_runs_on_one_folder_wait_for_each_other(tmp_path):
    out = tmp_path / "out"
    inside, release, order = threading.Event(), threading.Event(), []

    def first():
        with atomic_folder(out) as work:
            inside.set()
            release.wait(10)
            (work / "a.csv").write_text("first")
            order.append("first")

    def second():
        write_set(out, {"a.csv": "second"})
        order.append("second")

    a = threading.Thread(target=first)
    a.start()
    inside.wait(10)
    b = threading.Thread(target=second)
    b.start()
    time.sleep(0.5)
    assert order == []  # the second run waits on the lock
    release.set()
    a.join(10)
    b.join(10)
    assert order == ["first", "second"] and (out / "a.csv").read_text() == "second"


WRITER = textwrap.dedent(
    """
    import sys, warnings
    warnings.simplefilter("ignore")
    import dz_gis
    from dz_gis.outputs import write_outputs
    s = dz_gis.load_sample()
    run = dz_gis.run_coverage(s.graph, s.communities, s.compounds, s.facilities, with_isochrones=False)
    check = dz_gis.check_plan(run, dz_gis.load_rules("dazhou_2021_2025"))
    for i in range(1000):
        write_outputs(run, check, sys.argv[1], folio=False, attribution=f"run {i}")
        print("wrote", i, flush=True)
    """
)


def complete(out: Path) -> bool:
    listed = (out / MANIFEST).read_text().split()
    present = sorted(p.name for p in out.iterdir())
    return sorted([*listed, MANIFEST]) == present or sorted(listed) == present


def test_kill_9_at_any_moment_leaves_one_complete_run(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(out)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert proc.stdout.readline().startswith("wrote 0")  # one complete run exists
        expected = sorted(p.name for p in out.iterdir())
        rng = random.Random(7)
        for _ in range(3):  # freeze the writer at random moments of later runs: what a kill would leave
            time.sleep(rng.uniform(0.05, 2.5))
            os.kill(proc.pid, signal.SIGSTOP)  # freeze it, look, let it go on
            assert sorted(p.name for p in out.iterdir()) == expected and complete(out)
            os.kill(proc.pid, signal.SIGCONT)
        time.sleep(rng.uniform(0.05, 2.5))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        later = proc.stdout.read()
        proc.stdout.close()
    assert "wrote 2" in later  # runs were swapped in while it was watched
    assert sorted(p.name for p in out.iterdir()) == expected and complete(out)
    # the next run cleans what the killed one left beside the folder
    write_set(out, {"a.csv": "next"})
    assert leftovers(out) == []

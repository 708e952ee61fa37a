"""Progress bars: shown when asked for, silent by default, on every slow step of the command line."""

import io
import time

import pytest

from dz_gis import _progress, settings
from dz_gis.access import isochrones


@pytest.fixture
def shown(monkeypatch):
    monkeypatch.setattr(settings, "progress", True)
    monkeypatch.setattr(_progress, "DELAY_S", 0.0)


def test_track_counts_the_items(shown):
    out = io.StringIO()

    def slow():
        for i in range(3):
            time.sleep(0.3)
            yield i

    assert list(_progress.track(slow(), "folio pages 图册", total=3, file=out)) == [0, 1, 2]
    assert "folio pages 图册" in out.getvalue() and "2/3" in out.getvalue()


def test_ticking_shows_the_seconds(shown):
    out = io.StringIO()
    with _progress.ticking("[network]", file=out):
        time.sleep(1.2)
    assert "[network]: 00:0" in out.getvalue()


def test_silent_by_default(monkeypatch):
    monkeypatch.setattr(_progress, "DELAY_S", 0.0)
    assert settings.progress is False
    out = io.StringIO()
    assert list(_progress.track(range(3), "x", file=out)) == [0, 1, 2]
    with _progress.ticking("y", file=out), _progress.bar(3, "z", file=out) as b:
        b.update(3)
    assert out.getvalue() == ""


def test_auto_shows_nothing_off_a_terminal(monkeypatch):
    monkeypatch.setattr(settings, "progress", "auto")
    monkeypatch.setattr(_progress, "DELAY_S", 0.0)
    out = io.StringIO()  # not a terminal
    assert list(_progress.track(range(3), "x", file=out)) == [0, 1, 2]
    assert out.getvalue() == ""


def test_isochrones_show_facilities_done(shown, sample, capsys):
    fac = sample.facilities[sample.facilities["category"] == "public_toilet"]
    isochrones(sample.graph, fac, minutes=[5])
    err = capsys.readouterr().err
    assert "isochrones 等时圈" in err and f"{len(fac)}/{len(fac)} [" in err


def test_the_command_line_restores_the_setting(tmp_path):
    from dz_gis.cli import main

    assert main(["init", str(tmp_path / "project.yaml")]) == 0
    assert settings.progress is False

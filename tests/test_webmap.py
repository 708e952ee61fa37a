"""The web map opens with no internet, shows names as text, and carries the colour modes and gaps."""

import dataclasses
import html
import http.server
import io
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pyogrio
import pytest

import dz_gis
from dz_gis._errors import ValidationError
from dz_gis.catalog import Catalog, default_catalog
from dz_gis.cli import main
from dz_gis.outputs import coverage_map, save_map
from dz_gis.outputs.webmap import share_colour
from dz_gis.outputs.webpage import leaflet_assets

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="the headless-browser check needs Debian's chromium on PATH (apt-get install chromium)",
)

# what ran in the browser when names went into the page verbatim, and what a template literal would run
SCRIPT = "</script><script>document.title='x'</script>"
IMG = "<img src=x onerror=\"document.title='img'\">"
TEMPLATE = "`${document.title='tpl'}` \"dq\" 'sq'"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def demo_html(demo_out):
    return (demo_out / "coverage_map.html").read_text(encoding="utf-8")


def _linked_assets(page: str) -> list[str]:
    """Scripts and stylesheets the page would fetch: script src, any link tag, CSS imports and remote url()s."""
    pattern = r"<script\b[^>]*\bsrc\s*=[^>]*>|<link\b[^>]*>|@import[^;]*|url\(\s*['\"]?(?:https?:)?//[^)]*\)"
    return re.findall(pattern, page, flags=re.I)


def test_demo_map_loads_no_script_or_stylesheet_from_the_web(demo_html):
    assert _linked_assets(demo_html) == []
    js, css = leaflet_assets()
    # Leaflet itself, with its licence header, from the installed package
    assert js in demo_html and css in demo_html and "Leaflet 1.9.3" in js
    assert "data:image/png;base64," in css and "url(images/" not in css
    # jQuery, Bootstrap and Font Awesome are gone (nothing on the page uses them)
    for gone in ("jquery", "bootstrap", "fontawesome", "awesome-markers"):
        assert gone not in demo_html.lower()
    assert not re.search(r"//[\w.-]*cdn", demo_html, flags=re.I)


def test_the_finder_of_linked_assets_finds_them():
    page = (
        '<script src="https://cdn.example/a.js"></script><link rel="stylesheet" href="//x/b.css">'
        "<style>@import 'http://x/c.css'; a{background:url(https://x/d.png)}</style>"
    )
    assert len(_linked_assets(page)) == 4
    assert _linked_assets("<script>var a = 1;</script><style>a{background:url(data:image/png;base64,AA)}</style>") == []


def test_demo_map_carries_the_gaps_layer(demo_out, demo_html):
    gaps = pyogrio.read_dataframe(demo_out / "coverage.gpkg", layer="gaps")
    located = gaps[(gaps["status"] == "gap") & gaps.geometry.notna()]
    n_units = located.groupby(["scope", "unit_id"]).ngroups
    assert n_units > 0
    # layer names reach the script as JSON (non-ASCII as \\u escapes)
    assert json.dumps(f"缺口 Gaps: {n_units} units with gaps")[1:-1] in demo_html
    # each unit's tooltip lists its gap rules
    first = located.iloc[0]
    assert json.dumps(first["title_zh"])[1:-1] in demo_html


def _layer_data(fmap):
    """Every GeoJSON layer of a folium map: (name of its group, its data)."""
    found = []
    for group in fmap._children.values():
        for child in getattr(group, "_children", {}).values():
            if type(child).__name__ == "GeoJson":
                found.append((getattr(group, "layer_name", ""), child.data))
    return found


@pytest.fixture(scope="module")
def small_run(sample):
    return dz_gis.run_coverage(sample.graph, sample.communities, sample.compounds, sample.facilities)


def test_colour_modes_are_one_category_or_the_lowest_share(small_run):
    fmap = coverage_map(small_run)
    [(_, data)] = [(n, d) for n, d in _layer_data(fmap) if d["features"] and "fill" in d["features"][0]["properties"]]
    comm = small_run.communities
    cats = [c for c in default_catalog().ids if f"cov_{c}_15min" in comm and np.isfinite(comm[f"cov_{c}_15min"]).any()]
    shares = comm[[f"cov_{c}_15min" for c in cats]]
    for feature, (_, row) in zip(data["features"], shares.iterrows(), strict=True):
        fill = feature["properties"]["fill"]
        assert set(fill) == {"worst", *cats}
        assert fill["worst"] == share_colour(row.min())
        assert fill["park"] == share_colour(row["cov_park_15min"])
    # the lowest share is not the mean: waste stations pull every unit down
    assert any(f["properties"]["fill"]["worst"] != f["properties"]["fill"]["park"] for f in data["features"])
    names = [n for n, _ in _layer_data(fmap)]
    for band in (5, 10, 15):  # each band of each category is a layer of its own
        assert sum(n.startswith(f"{band} 分钟步行圈") for n in names) == len(set(small_run.isochrones["category"]))
    assert not any(n.startswith("缺口") for n in names)  # no check given, no gaps layer


def test_a_band_the_run_lacks_is_a_clear_error(small_run):
    with pytest.raises(ValidationError, match=r"band=20 is not one of the run's walking bands \[5, 10, 15\]"):
        coverage_map(small_run, band=20)


def test_proposals_are_a_layer_of_their_own(small_run):
    site = small_run.facilities.iloc[:2][["geometry"]].assign(category=["park", "unknown"], name=["A", IMG])
    fmap = coverage_map(small_run, proposals=site)
    [(name, data)] = [(n, d) for n, d in _layer_data(fmap) if n.startswith("拟建")]
    assert name == "拟建 Proposals (2)" and len(data["features"]) == 2
    assert "公园绿地" in data["features"][0]["properties"]["tip"]
    assert (
        IMG not in data["features"][1]["properties"]["tip"]
        and html.escape(IMG) in data["features"][1]["properties"]["tip"]
    )
    assert "拟建 Proposed sites</b> (2)" in fmap.get_root().render()  # and a key in the legend


@pytest.fixture(scope="module")
def hostile(sample, tmp_path_factory):
    """A map of the sample in which every name is an attack."""
    run = dz_gis.run_coverage(
        sample.graph, sample.communities, sample.compounds, sample.facilities, with_isochrones=False
    )
    run = dataclasses.replace(
        run,
        communities=run.communities.assign(name=f"{TEMPLATE} {IMG}", street=SCRIPT),
        compounds=run.compounds.assign(compound_id=[f"{SCRIPT}{i}" for i in range(len(run.compounds))]),
        facilities=run.facilities.assign(name=SCRIPT, facility_id=TEMPLATE),
    )
    check = dz_gis.check_plan(run, dz_gis.load_rules("dazhou_2021_2025"))
    catalog = Catalog(
        tuple(dataclasses.replace(c, name_en=f"{c.name_en} {IMG}") if c.id == "park" else c for c in default_catalog())
    )
    fmap = coverage_map(run, check=check, catalog=catalog, attribution=SCRIPT, title=f"{IMG} 通川区")
    path = save_map(fmap, tmp_path_factory.mktemp("hostile") / "map.html")
    return path, path.read_text(encoding="utf-8")


def test_hostile_names_do_not_reach_the_page_as_markup(hostile, demo_html):
    _, page = hostile
    for payload in (SCRIPT, IMG, "<img src=x", "</script><script>"):
        assert payload not in page
    # backticks and ${} stay as they are, inside JSON strings only: the browser test shows they do not run
    # as many script elements as any map has: none was opened by a name
    assert page.lower().count("<script") == demo_html.lower().count("<script")
    # the escaped text is there (the JSON in the script escapes the & of the entities too)
    assert "\\u0026lt;/script\\u0026gt;" in page and "\\u0026lt;img src=x" in page


# -- in a real browser, with no network ------------------------------------------------------------

# run after the map's own scripts: picks a colour mode, hovers a facility and a community,
# and writes what the page then shows into a <pre> that --dump-dom prints
PROBE = """
<script>
window.addEventListener("load", function () { setTimeout(function () {
    var q = function (s) { return Array.from(document.querySelectorAll(s)); };
    var out = {title: document.title, injected: q("img[src=x]").length};
    out.modes = q(".leaflet-control-layers-base label").map(function (l) { return l.textContent.trim(); });
    out.overlays = q(".leaflet-control-layers-overlays label").map(function (l) { return l.textContent.trim(); });
    out.facilities = q(".leaflet-dz_facilities-pane path.leaflet-interactive").length;
    out.gaps = q(".leaflet-dz_gaps-pane path").length;
    out.communities = function () { return q('.leaflet-overlay-pane path[stroke="#333"]').map(function (p) {
        return p.getAttribute("fill"); }); };
    out.before = out.communities();
    var radios = q(".leaflet-control-layers-base input");
    radios[MODE].click();
    out.after = out.communities();
    out.mode = document.querySelector('[id$="-legend-mode"]').textContent;
    var note = document.querySelector('[id$="-legend-offline"]');
    out.offline = note && getComputedStyle(note).display !== "none";
    out.tiles = q("img.leaflet-tile-loaded").length;
    var hover = function (sel) {
        var el = document.querySelector(sel);
        var r = el.getBoundingClientRect();
        el.dispatchEvent(new MouseEvent("mouseover", {bubbles: true, clientX: r.x + r.width / 2,
                                                      clientY: r.y + r.height / 2}));
        var tips = q(".leaflet-tooltip-pane .leaflet-tooltip");
        return tips.length ? tips[tips.length - 1].textContent : null;
    };
    out.facilityTip = hover(".leaflet-dz_facilities-pane path.leaflet-interactive");
    out.communityTip = hover('.leaflet-overlay-pane path[stroke="#333"]');
    out.legend = document.querySelector('[id$="-legend"]').textContent;
    delete out.communities;
    var pre = document.createElement("pre"); pre.id = "dz-probe"; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
}, 300); });
</script>
"""

NO_NETWORK = [
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--metrics-recording-only",
    "--disable-breakpad",
]


def _browse(page: Path, tmp_path: Path, mode: int, *extra: str) -> tuple[dict, str]:
    probed = tmp_path / f"probed_{page.name}"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE.replace("MODE", str(mode)) + "</body>"))
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,860",
        "--virtual-time-budget=10000",
        *NO_NETWORK,
        *extra,
        "--dump-dom",
        probed.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="dz-probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, f"the page's scripts did not run to the end ({len(done.stdout)} chars): {done.stdout[-3000:]}"
    return json.loads(html.unescape(found[1])), done.stdout


@needs_chromium
def test_demo_map_draws_offline_in_a_browser(demo_out, tmp_path):
    comm = pyogrio.read_dataframe(demo_out / "coverage.gpkg", layer="communities")
    facilities = pyogrio.read_dataframe(demo_out / "coverage.gpkg", layer="facilities")
    proposals = pyogrio.read_dataframe(demo_out / "coverage.gpkg", layer="proposals")
    probe, _ = _browse(demo_out / "coverage_map.html", tmp_path, mode=9)
    # a blank page has none of these
    assert len(probe["before"]) == len(comm)
    assert probe["facilities"] == len(facilities) + len(proposals)  # the proposals share the markers' pane
    assert probe["gaps"] > 0
    assert any("分钟步行圈" in o for o in probe["overlays"]) and any(
        o.startswith("缺口 Gaps") for o in probe["overlays"]
    )
    # the worst-gap colours first, then the chosen category's, computed as the GeoPackage's numbers say
    cats = [c for c in default_catalog().ids if f"cov_{c}_15min" in comm and comm[f"cov_{c}_15min"].notna().any()]
    assert probe["before"] == [share_colour(v) for v in comm[[f"cov_{c}_15min" for c in cats]].min(axis=1)]
    chosen = cats[9 - 1]
    assert probe["mode"] == probe["modes"][9]
    assert probe["after"] == [share_colour(v) for v in comm[f"cov_{chosen}_15min"]]
    # no tile server answers here: the offline base is what one sees, and the legend says so
    assert probe["offline"] is True and probe["tiles"] == 0
    assert probe["facilityTip"] and probe["communityTip"] and "households" in probe["communityTip"]


@needs_chromium
def test_hostile_names_show_as_text_in_a_browser(hostile, tmp_path):
    path, _ = hostile
    probe, dom = _browse(path, tmp_path, mode=1)
    assert probe["title"] == f"{IMG} 通川区" and probe["injected"] == 0  # the project's name, as text
    assert probe["facilityTip"].strip().startswith(SCRIPT)  # the name, as text
    assert TEMPLATE in probe["communityTip"] and IMG in probe["communityTip"]
    assert any(IMG in m for m in probe["modes"])  # a category name in the layers list
    assert SCRIPT in probe["legend"]  # the attribution
    assert "<img src=x" not in dom.split('<pre id="dz-probe">')[0]


class _Tiles(http.server.BaseHTTPRequestHandler):
    """A tile server on this machine: one plain PNG for every z/x/y."""

    png = b""
    asked: list[str] = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        type(self).asked.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.png)))
        self.end_headers()
        self.wfile.write(self.png)

    def log_message(self, *args):
        pass


@needs_chromium
@pytest.mark.enable_socket
def test_online_tiles_show_when_their_server_answers(small_run, tmp_path):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 230, 200)).save(buf, format="PNG")
    _Tiles.png, _Tiles.asked = buf.getvalue(), []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        fmap = coverage_map(small_run, tiles=url, tiles_attribution="local tiles", title="通川区 15分钟生活圈")
        local = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-bypass-list=127.0.0.1"]
        probe, _ = _browse(save_map(fmap, tmp_path / "online.html"), tmp_path, 1, *local)
    finally:
        server.shutdown()
        server.server_close()
    assert _Tiles.asked and all(p.endswith(".png") for p in _Tiles.asked)
    assert probe["tiles"] > 0 and probe["offline"] is False  # the base tiles, and no offline note
    assert probe["title"] == "通川区 15分钟生活圈"


def test_a_tile_url_needs_its_credit(small_run):
    with pytest.raises(dz_gis.ValidationError, match="tiles_attribution"):
        coverage_map(small_run, tiles="https://tiles.example.org/{z}/{x}/{y}.png")

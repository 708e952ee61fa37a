"""The page around a web map: Leaflet inlined so it opens with no internet, escaping, the mode switch.

folium writes ``<script src=...>`` and ``<link href=...>`` tags that point at CDNs for Leaflet,
jQuery, Bootstrap, Font Awesome and Leaflet.awesome-markers; offline the page is blank. Here the
map keeps none of those links: Leaflet's own script and stylesheet are copied into the page from the
PyPI package XStatic-Leaflet (the files Leaflet publishes, with their BSD-2 licence header), and
the rest is dropped because the map uses only Leaflet's own layers (no awesome-markers icons, no
Bootstrap widgets, no jQuery).

Escaping: every string that comes from the data (names, ids, categories, rule titles) goes through
:func:`esc` before it becomes HTML, and reaches the page's script only inside JSON written by
Jinja's ``tojson`` (which also escapes ``<``, ``>``, ``&`` and ``'``), never into a JavaScript
template literal; so ``</script>``, quotes, backticks and ``${}`` in a name show as text.
"""

from __future__ import annotations

import base64
import html
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from branca.element import MacroElement
from jinja2 import Template

__all__ = ["ModeSwitch", "esc", "leaflet_assets", "offline_map"]


def esc(value: Any) -> str:
    """Text for HTML: ``<``, ``>``, ``&`` and both quotes escaped.

    >>> esc("</script><b title='x'>${1}`")
    '&lt;/script&gt;&lt;b title=&#x27;x&#x27;&gt;${1}`'
    """
    return html.escape(str(value), quote=True)


def _leaflet_file(name: str) -> Any:
    try:
        return resources.files("xstatic.pkg.leaflet") / "data" / name
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Web maps need Leaflet's files: pip install 'dz_gis[maps]' (XStatic-Leaflet)") from exc


@lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's script and stylesheet, ready to sit inside ``<script>`` and ``<style>`` tags.

    The stylesheet's images (the layers-control icon, the default marker) become ``data:`` URIs,
    so the page needs no other file.
    """
    js = _leaflet_file("leaflet.js").read_text(encoding="utf-8")
    css = _leaflet_file("leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = (_leaflet_file("images") / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)
    # a closing tag inside would end the element early; Leaflet 1.9 has none, a future file might
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover - guards a package update
        raise RuntimeError("Leaflet's files contain a closing </script> or </style> tag; they cannot be inlined")
    return js, css


# the offline base sits on paper colour; the open layers list scrolls instead of covering the map, and
# its two parts are titled (the colour modes are radio buttons, the layers check boxes)
_PAGE_CSS = """
.leaflet-container{background:#f5f3ee}
.leaflet-control-layers-expanded{font:11px/1.3 sans-serif;max-width:300px;max-height:calc(100vh - 40px);overflow-y:auto}
.leaflet-control-layers-base::before{content:"社区着色 Community colour";font-weight:bold}
.leaflet-control-layers-overlays::before{content:"图层 Layers";font-weight:bold}
.leaflet-tooltip{font:12px/1.35 sans-serif;white-space:normal;width:max-content;max-width:420px}
.leaflet-tooltip table td{padding:0}
"""


def offline_map(folium: Any, **kwargs: Any) -> Any:
    """A ``folium.Map`` whose page carries Leaflet inline and links to nothing.

    ``kwargs`` go to ``folium.Map`` (``tiles`` defaults to None: add tile layers yourself).
    """
    kwargs.setdefault("tiles", None)
    fmap = folium.Map(**kwargs)
    # instance attributes: the class lists are shared by every folium map of the process
    fmap.default_js = []
    fmap.default_css = []
    js, css = leaflet_assets()
    header = fmap.get_root().header
    header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css")
    header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet")
    # the background of the offline base: where no tile loads, the boundaries sit on paper colour
    header.add_child(folium.Element(f"<style>{_PAGE_CSS}</style>"), name="dz_gis_css")
    return fmap


class ModeSwitch(MacroElement):
    """Script: the colour-mode radio buttons restyle one community layer; offline tiles step aside.

    Hand-written because folium has no way to restyle one GeoJSON layer from a layer toggle;
    drawing the communities once per mode instead would repeat every polygon for each category.

    Parameters
    ----------
    communities
        The ``folium.GeoJson`` of the communities; each feature carries ``properties.fill``,
        a colour per mode key.
    modes
        ``(layer, key, title)`` per mode: the (empty) base layer whose radio button picks the mode,
        the key into ``fill`` and the plain-text title shown in the legend.
    tiles
        The tile layer; on the first tile that fails before any has loaded it is removed and the
        legend's offline note shown, so the offline base is what one sees.
    legend_id
        The ``id`` prefix of the legend's elements.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var communities = {{ this.communities.get_name() }};
            var modes = [
                {%- for layer, key, title in this.modes %}
                [{{ layer.get_name() }}, {{ key|tojson }}, {{ title|tojson }}],
                {%- endfor %}
            ];
            map.on("baselayerchange", function (e) {
                modes.forEach(function (m) {
                    if (m[0] !== e.layer) { return; }
                    communities.setStyle(function (f) { return {fillColor: f.properties.fill[m[1]]}; });
                    document.getElementById({{ (this.legend_id ~ "-mode")|tojson }}).textContent = m[2];
                });
            });
            {%- if this.tiles is not none %}
            var tiles = {{ this.tiles.get_name() }}, loaded = false;
            tiles.on("tileload", function () { loaded = true; });
            tiles.on("tileerror", function () {
                if (loaded || !map.hasLayer(tiles)) { return; }
                map.removeLayer(tiles);
                document.getElementById({{ (this.legend_id ~ "-offline")|tojson }}).style.display = "block";
            });
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, communities: Any, modes: list[tuple[Any, str, str]], tiles: Any, legend_id: str) -> None:
        super().__init__()
        self._name = "ModeSwitch"
        self.communities = communities
        self.modes = modes
        self.tiles = tiles
        self.legend_id = legend_id

"""Open every layer of a GeoPackage in QGIS (headless) and report what QGIS sees, as JSON.

Run with a Python that can import QGIS's bindings (Debian/Ubuntu: ``apt-get install
python3-qgis``; the system ``python3``), not the project's virtual environment:

    QT_QPA_PLATFORM=offscreen python3 tests/qgis_probe.py out/coverage.gpkg [--png LAYER[,LAYER...] FILE]

Used by ``tests/test_qgis.py``; with ``--png`` it also draws layers (the first on top) with their styles.
"""

import json
import os
import sys


def main(argv):
    from qgis.core import (
        Qgis,
        QgsApplication,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsProviderRegistry,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    path = argv[0]
    app = QgsApplication([], False)
    app.initQgis()
    logs = []
    QgsApplication.messageLog().messageReceived.connect(lambda msg, tag, level: logs.append([tag, int(level), msg]))
    report = {"qgis": Qgis.QGIS_VERSION, "layers": {}, "logs": logs}
    sublayers = QgsProviderRegistry.instance().querySublayers(path)
    loaded = {}
    for sub in sublayers:
        name = sub.name()
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        loaded[name] = layer
        renderer = layer.renderer()
        info = {
            "valid": layer.isValid(),
            "features": layer.featureCount(),
            "spatial": layer.isSpatial(),
            "renderer": renderer.type() if renderer else None,
            "fields": {f.name(): f.typeName() for f in layer.fields()},
            "aliases": {f.name(): f.alias() for f in layer.fields() if f.alias()},
            "style": layer.styleManager().currentStyle(),
        }
        if renderer is not None and renderer.type() == "categorizedSymbol":
            info["attr"] = renderer.classAttribute()
            info["classes"] = {c.value(): c.symbol().color().name() for c in renderer.categories()}
        elif renderer is not None and renderer.type() == "graduatedSymbol":
            info["attr"] = renderer.classAttribute()
            info["classes"] = {r.label(): r.symbol().color().name() for r in renderer.ranges()}
        elif renderer is not None:
            info["classes"] = {"": renderer.symbol().color().name()}
        report["layers"][name] = info
    if "--png" in argv:
        i = argv.index("--png")
        names, out = argv[i + 1].split(","), argv[i + 2]
        layer = loaded[names[-1]]  # the extent of the last (bottom) layer
        settings = QgsMapSettings()
        settings.setLayers([loaded[n] for n in names])
        settings.setDestinationCrs(layer.crs())
        settings.setExtent(layer.extent().buffered(layer.extent().width() * 0.05))
        settings.setOutputSize(QSize(800, 800))
        settings.setBackgroundColor(QColor("white"))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        report["png"] = image.save(out, "PNG")
        counts = {}
        for y in range(0, image.height(), 2):
            for x in range(0, image.width(), 2):
                rgb = image.pixel(x, y) & 0xFFFFFF
                counts[rgb] = counts.get(rgb, 0) + 1
        report["png_colours"] = {f"#{rgb:06x}": n for rgb, n in counts.items() if n >= 3}
    app.processEvents()
    print(json.dumps(report, ensure_ascii=False), flush=True)
    app.exitQgis()
    # PyQGIS scripts often crash while Python tears down Qt objects after exitQgis(): all is
    # reported by now, so leave at once with a clean exit code
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The ``dz-gis`` command line: parse, call, turn errors into a message and an exit code.

Exit codes: 0 done, 2 bad input (a :class:`~dz_gis.DzGisError`: the message says what and
where, and the fix), 1 anything unexpected (a bug: the traceback is printed).
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from . import settings
from ._errors import DataFileError, DzGisError

__all__ = ["main"]

_DESCRIPTION = """\
15-minute life-circle (15分钟社区生活圈) service-coverage analysis: the share of each community's
(社区) households, living in compounds (小区), within 5/10/15 minutes' walk of each kind of
facility (设施), checked against the plan's rules (规划指标) for gaps (短板), by community and
street (街道); with proposed sites (选址建议), tables, a GeoPackage, a web map and a folio (图册).

Your own data: `dz-gis init project.yaml` writes a commented project file (项目文件); edit it,
then `dz-gis run project.yaml`. Exit codes: 0 done, 2 bad input (the message says the fix),
1 unexpected error."""

_EPILOG = """\
examples:
  dz-gis demo                              the bundled sample (示例数据)
  dz-gis init project.yaml                 a commented project file to fill in
  dz-gis init --district 通川区 p.yaml      pre-filled for a Dazhou district (区县)
  dz-gis run project.yaml                  every step, every output
  dz-gis gaps project.yaml                 only coverage and the plan check"""


#: Python argument names the readers' messages suggest, as the project file spells them.
_PROJECT_KEYS = {
    "crs=": "coords: EPSG:4545 (any EPSG code, or wgs84 / gcj02 / bd09 / cgcs2000)",
    "coords=": "coords: gcj02",
    "columns=": "columns: {households: 户数}",
    "header_row=": "header_row: 2",
    "layer=": "layer: <sheet or layer name>",
    "category=": "category: <category>",
    "--out": "outputs: {folder: <folder>} (not under a layer)",
}


def in_project_terms(message: str) -> str | None:
    """The project-file keys for the Python arguments a message names (``crs=...`` is ``coords:`` there).

    >>> in_project_terms("pass crs=... with the layer's EPSG code")
    'In the project file: coords: EPSG:4545 (any EPSG code, or wgs84 / gcj02 / bd09 / cgcs2000), under the layer.'
    >>> in_project_terms("the file is empty") is None
    True
    """
    keys = [key for arg, key in _PROJECT_KEYS.items() if arg in message]
    if not keys:
        return None
    return f"In the project file: {'; '.join(keys)}, under the layer."


def _demo(args: argparse.Namespace) -> int:
    from .runner import run_demo

    return run_demo(args.out, minutes=args.minutes, rules=args.rules, toilets=args.toilets)


def _project_command(args: argparse.Namespace) -> int:
    from .project import load_project
    from .runner import run_command

    return run_command(load_project(args.project), args.command)


def _init(args: argparse.Namespace) -> int:
    from ._atomic import atomic_path
    from .project import project_template

    path = Path(args.project)
    if path.exists() and not args.force:
        raise DataFileError(
            f"{path} already exists (文件已存在); pass --force to overwrite it, or choose another name."
        )
    text = project_template(path.name, district=args.district)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    print(f"Wrote {path}. Edit the file names in it (修改其中的文件名), then: dz-gis run {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    from .runner import COMMANDS

    parser = argparse.ArgumentParser(
        prog="dz-gis", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (详细日志)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    demo = sub.add_parser("demo", help="run the coverage analysis on the bundled sample (示例数据)")
    demo.add_argument("--out", default="out", help="output folder (default: out)")
    demo.add_argument("--minutes", type=int, nargs="+", default=[5, 10, 15], help="walking bands")
    demo.add_argument("--rules", default=None, help="rules file (default: the Dazhou plan's rules)")
    demo.add_argument("--toilets", type=int, default=3, help="new public toilets to propose (default: 3)")
    demo.set_defaults(func=_demo)
    init = sub.add_parser("init", help="write a commented project file (项目文件) to fill in")
    init.add_argument("project", help="the project file to write, e.g. project.yaml")
    init.add_argument("--district", help="pre-fill for a Dazhou district (区县), e.g. 通川区")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=_init)
    steps = {"run": "every step and every output, with the full report (全部步骤)", **COMMANDS}
    for name, what in steps.items():
        cmd = sub.add_parser(name, help=what, description=f"{what}. Reads the project file (项目文件).")
        cmd.add_argument("project", help="the project file (dz-gis init writes one)")
        cmd.set_defaults(func=_project_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dz-gis`` command."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    shown = settings.progress
    settings.progress = shown or "auto"  # bars on a terminal, not in logs
    try:
        return int(args.func(args))
    except DzGisError as exc:
        print(f"dz-gis: error: {exc}", file=sys.stderr)
        hint = in_project_terms(str(exc)) if args.func is _project_command else None
        if hint:
            print(f"dz-gis: {hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dz-gis: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print("dz-gis: unexpected error (程序错误); please report it with the traceback above.", file=sys.stderr)
        return 1
    finally:
        settings.progress = shown


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

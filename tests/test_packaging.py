"""The conda environment, pyproject and README stay in step."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_every_pyproject_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for reqs in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in reqs if not r.startswith("dz_gis")}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip = {_name(d) for d in next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))}
    assert "-e ." in next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    missing = wanted - conda - pip
    assert not missing, f"environment.yml lacks {sorted(missing)}"
    extra_in_env = (conda | pip) - wanted - {"python", "pip", "-e"}
    assert not extra_in_env, f"environment.yml has {sorted(extra_in_env)} that pyproject does not"


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_catalog_yaml_ships_with_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "*.yaml" in project["tool"]["setuptools"]["package-data"]["dz_gis"]

"""The wheel: it ships the schemas and works from any directory, without the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

PROBE = """
import json, pathlib, ttguard
from importlib import resources
assert pathlib.Path(ttguard.__file__).is_relative_to({target!r}), ttguard.__file__
schemas = resources.files("ttguard") / "schemas"
assert not pathlib.Path(str(schemas)).is_symlink()
try:
    ttguard.validate({{"description": {{"Bad": 1}}}}, "create_twin")
except ttguard.TTError as error:
    print(json.dumps([error.subcode, error.description]))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(out), str(ROOT)], check=True)
    [built] = out.glob("ttguard-*.whl")
    return built


def test_the_wheel_ships_every_schema_and_the_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in (ROOT / "schemas").glob("*.json"):
        assert f"ttguard/schemas/{schema.name}" in names
    assert "ttguard/py.typed" in names


def test_the_installed_wheel_validates_from_another_directory(
        wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(target=str(target))], cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(target)}, capture_output=True, text=True,
        check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '[400589, "body::description->__key__: string does not match regex '
        '^[a-z_][0-9a-z_]{0,63}$"]')


def test_importing_ttguard_loads_no_heavy_module() -> None:
    """Import stays cheap: jsonschema (~100 ms), jsonschema_rs, regex and the adapters'
    libraries load when first needed, not with ``import ttguard``."""
    heavy = ["jsonschema", "jsonschema_rs", "regex", "importlib.resources", "starlette",
             "httpx", "requests", "aiohttp", "uvicorn"]
    result = subprocess.run(
        [sys.executable, "-c", "import sys, ttguard, ttguard.asgi, ttguard.clients; "
         f"print([name for name in {heavy!r} if name in sys.modules])"],
        capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_heavy_modules_load_on_first_use() -> None:
    # A refusal of any size is worded by the walk and the rules alone, and a request Rust cannot
    # read (NaN, as null) is walked without Rust: jsonschema (~100 ms) comes with the reference,
    # which no operation of the catalogue needs.
    script = ("import sys, ttguard\n"
              "large = {'description': {**{f'k{i}': i for i in range(2000)}, 'Bad': 1}}\n"
              "for body in ({'description': 1}, large, b'{\"description\": {\"a\": NaN}}'):\n"
              "    try: ttguard.validate(body, 'create_twin')\n"
              "    except ttguard.TTError as error: print(error.subcode)\n"
              "    print('jsonschema_rs' in sys.modules, 'jsonschema' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["400589", "True", "False", "400589", "True", "False",
                                     "True", "False"]

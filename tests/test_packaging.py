"""Packaging: the APK as flet-cli would build it, and the three deployments apart.

- flet-cli 1.0.5's own code reads pyproject.toml the way `flet build apk` does
  (entry point, template data, icon and splash lookup, what it leaves out),
  stopping before anything needs the Flutter SDK or the network;
- the phone's requirements, exactly as flet-cli hands them to pip for the APK
  (pinned to what Flet's Android index hosts), installed alone into a fresh
  virtual environment, run every module the APK carries, and no server package;
- neither the server nor the core imports Flet, directly or through what they import;
- `pip install .[server]` brings no Flet, and the server starts from it.

The virtual-environment tests are `slow`. They install from a wheelhouse
outside the repository ($FIELDAPP_WHEELHOUSE, else ~/.cache/fieldapp/wheelhouse),
filled from the package registry the first time a requirement list is seen and
read alone (`--no-index`) after that.
"""

from __future__ import annotations

import argparse
import ast
import fcntl
import fnmatch
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

flet_build = pytest.importorskip("flet_cli.commands.build", reason="flet-cli (the dev extra) reads the build configuration")

from flet_cli.utils import python_versions  # noqa: E402
from flet_cli.utils.app_excludes import find_default_excludes  # noqa: E402
from flet_cli.utils.hash_stamp import HashStamp  # noqa: E402
from flet_cli.utils.project_dependencies import get_project_dependencies  # noqa: E402
from flet_cli.utils.pyproject_toml import load_pyproject_toml  # noqa: E402

# What the phone must never carry: the server's packages and the web mode's server.
SERVER_PACKAGES = ("fastapi", "uvicorn", "starlette", "psycopg", "psycopg-pool", "psycopg-binary", "flet-web")
FLET_PACKAGES = ("flet", "flet-charts", "flet-geolocator", "flet-camera", "flet-web", "flet-cli", "flet-desktop")

# What Flet publishes, committed with its source and date (tests/fixtures/flet/README.md):
# python-build's manifest.json, which flet-cli fetches to pick the APK's Python and
# its Android ABIs, and what Flet's Android package index builds for each Python.
FLET_FIXTURES = ROOT / "tests" / "fixtures" / "flet"
MANIFEST = FLET_FIXTURES / "python-build-manifest.json"
ANDROID_INDEX = json.loads((FLET_FIXTURES / "android-index.json").read_text(encoding="utf-8"))
# The volunteers' phones: 64-bit ARM, the cheap 32-bit ARM ones, and the emulators.
PHONE_ABIS = ("arm64-v8a", "armeabi-v7a", "x86_64")


# ---------------------------------------------------------------------------
# (a) flet-cli's reading of the project
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flet_apk():
    """flet-cli's build command for `flet build apk .`, up to its template data,
    with Flet's published manifest instead of the one it would fetch."""
    saved = os.environ.get(python_versions.MANIFEST_PATH_ENV)
    os.environ[python_versions.MANIFEST_PATH_ENV] = str(MANIFEST)
    python_versions._load_data.cache_clear()
    try:
        parser = argparse.ArgumentParser()
        cmd = flet_build.Command(parser)
        options = parser.parse_args(["apk", str(ROOT)])
        cmd.options = options
        cmd.target_platform = options.target_platform
        # What initialize_command sets, without its Flutter SDK and Android SDK checks.
        platform = cmd.platforms[cmd.target_platform]
        cmd.package_platform = platform["package_platform"]
        cmd.config_platform = platform["config_platform"]
        cmd.python_app_path = Path(options.python_app_path).resolve()
        cmd.build_dir = cmd.python_app_path / "build"
        cmd.flutter_dir = cmd.build_dir / "flutter"
        cmd.get_pyproject = load_pyproject_toml(cmd.python_app_path)
        cmd.python_release = python_versions.resolve_python_version(options.python_version, cmd.get_pyproject)
        cmd.validate_entry_point()
        cmd.setup_template_data()
        yield cmd
    finally:
        python_versions._load_data.cache_clear()
        if saved is None:
            os.environ.pop(python_versions.MANIFEST_PATH_ENV, None)
        else:
            os.environ[python_versions.MANIFEST_PATH_ENV] = saved


def apk_requirements(cmd) -> list[str]:
    """The requirements flet-cli passes to pip for the APK (as in package_python_app)."""
    assert cmd.get_pyproject("tool.poetry.dependencies") is None, "flet-cli would read Poetry's list instead"
    requirements = get_project_dependencies(cmd.get_pyproject("project.dependencies")) or []
    requirements += get_project_dependencies(cmd.get_pyproject(f"tool.flet.{cmd.config_platform}.dependencies")) or []
    return requirements


def apk_excludes(cmd) -> list[str]:
    """The paths flet-cli tells serious_python to leave out (as in package_python_app)."""
    explicit = ["build", *cmd.get_platform_setting("app.exclude", [])]
    include = cmd.get_platform_setting("app.include", [])
    return list(dict.fromkeys(explicit + find_default_excludes(cmd.package_app_path, include, explicit)))


def apk_files(cmd) -> list[str]:
    """The app's files in the APK: serious_python copies the app folder entry by entry,
    skipping an entry whose path relative to the app folder is on the exclude list."""
    excluded = set(apk_excludes(cmd))
    root = cmd.package_app_path
    files: list[str] = []

    def walk(folder: Path) -> None:
        for entry in sorted(folder.iterdir()):
            rel = os.path.relpath(entry, root)
            if rel in excluded:
                continue
            if entry.is_dir():
                walk(entry)
            elif entry.is_file():
                files.append(Path(rel).as_posix())

    walk(root)
    return files


def test_entry_point_is_main_py_at_the_app_root(flet_apk):
    assert flet_apk.package_app_path == ROOT
    assert flet_apk.python_module_name == "main"
    assert flet_apk.template_data["python_module_name"] == "main"
    entry = ast.parse((ROOT / "main.py").read_text(encoding="utf-8"))
    imported = {
        (node.module, alias.name) for node in ast.walk(entry) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    # The app's own start, on the data folder that picks Flet's app storage on a phone.
    assert ("fieldapp.ui.app", "run") in imported
    assert ("fieldapp.config", "data_dir") in imported


def test_phone_data_folder_is_flets_app_storage(monkeypatch, tmp_path):
    from fieldapp.config import data_dir

    monkeypatch.delenv("FIELDAPP_DATA", raising=False)
    monkeypatch.setenv("FLET_APP_STORAGE_DATA", str(tmp_path))
    assert data_dir() == tmp_path / "fieldapp"


def test_identity_version_and_permissions(flet_apk):
    data = flet_apk.template_data
    assert data["product_name"] == "Field records"
    assert data["artifact_name"] == "fieldapp"  # build/apk/fieldapp.apk
    assert data["org_name"] == "org.fieldapp"
    assert data["bundle_id"] == "org.fieldapp.records"
    assert flet_apk.get_pyproject("tool.flet.build_number") == 1
    assert flet_apk.get_pyproject("project.version")  # the version users see (--build-name)

    permissions = data["options"]["android_permissions"]
    # The template writes a <uses-permission> for each entry that is true.
    asked = sorted(name for name, wanted in permissions.items() if wanted is True)
    assert asked == [
        "android.permission.ACCESS_COARSE_LOCATION",
        "android.permission.ACCESS_FINE_LOCATION",
        "android.permission.CAMERA",  # photographs as evidence (issue 24)
        "android.permission.INTERNET",
    ]
    assert permissions["android.permission.ACCESS_BACKGROUND_LOCATION"] is False
    # A phone without GPS hardware can still install it.
    assert data["options"]["android_features"]["android.hardware.location.gps"] is False
    assert data["options"]["android_features"]["android.hardware.camera"] is False  # nor one without a camera


def test_icon_and_splash_as_flet_cli_finds_and_renders_them(flet_apk, tmp_path):
    from flet_platform_assets import IconOptions, SplashOptions, load_source, render_icons, render_splash, square

    assets = flet_apk.package_app_path / "assets"
    stamp = HashStamp(tmp_path / "stamp")
    # The lookups customize_icons and customize_splash_images make for Android.
    icon = flet_apk.find_platform_image(assets, "icon_android", stamp) or flet_apk.find_platform_image(assets, "icon", stamp)
    splash = flet_apk.find_platform_image(assets, "splash_android", stamp) or flet_apk.find_platform_image(
        assets, "splash", stamp
    )
    splash_dark = flet_apk.find_platform_image(assets, "splash_dark_android", stamp) or flet_apk.find_platform_image(
        assets, "splash_dark", stamp
    )
    assert (icon, splash, splash_dark) == ("icon.png", "splash.png", "splash_dark.png")

    source, pre_rendered = load_source(assets / icon)
    assert source.size == (1024, 1024)
    icons = render_icons(
        source,
        IconOptions(background=flet_apk._resolve_icon_background(), application_id=flet_apk.template_data["bundle_id"]),
        platform="android",
        pre_rendered=pre_rendered,
        derived=True,
    )
    assert icons.warnings == []  # no low resolution, nothing outside the adaptive icon's safe zone
    by_folder = {Path(a.relative_path).parent.name: a.image.convert("RGBA") for a in icons.assets}
    launcher = by_folder["mipmap-mdpi"]  # the 48 px launcher icon
    assert launcher.size == (48, 48)
    # Opaque, so it reads on any wallpaper; the mark against its ground is high-contrast.
    assert launcher.getchannel("A").getextrema() == (255, 255)
    lum = sorted(_luminance(launcher.getpixel((x, y))) for x in range(48) for y in range(48))
    darkest, ground = lum[len(lum) // 50], lum[len(lum) // 2]
    assert (ground + 0.05) / (darkest + 0.05) >= 4.5
    assert flet_apk.template_data["adaptive_icon_background"] == "#F57C00"

    splash_data = flet_apk.template_data["splash"]
    assert splash_data["android"] is True
    light, _ = load_source(assets / splash)
    dark, _ = load_source(assets / splash_dark)
    rendered = render_splash(
        square(light)[0],
        square(dark)[0],
        SplashOptions(color=splash_data["color"], dark_color=splash_data["dark_color"]),
        platform="android",
        derived=False,
    )
    assert rendered.warnings == []
    assert rendered.assets


def _luminance(px) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in px[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_the_apk_carries_only_what_the_phone_runs(flet_apk):
    excludes = apk_excludes(flet_apk)
    for path in ("bench", "docs", "tests", "sync", "assets/source", "run-data", "fieldapp/ui/web.py"):
        assert path in excludes
    # An exclude that names nothing (a folder moved or renamed) would let its new place in.
    for path in flet_apk.get_platform_setting("app.exclude", []):
        if path not in ("run-data", "fieldapp.egg-info"):  # made by `make run` and pip, absent from a fresh clone
            assert (ROOT / path).exists(), f"[tool.flet.app].exclude names {path!r}, which is not there"

    files = apk_files(flet_apk)
    assert "main.py" in files
    for needed in ("fieldapp/core/records.py", "fieldapp/store/store.py", "fieldapp/core/protocol.py", "fieldapp/sync/worker.py",
                   "fieldapp/ui/app.py", "assets/translations/ar.json", "assets/fonts/NotoSansArabic-Regular.ttf"):
        assert needed in files
    allowed_roots = ("fieldapp/", "assets/")
    stray = [f for f in files if f != "main.py" and not f.startswith(allowed_roots)]
    assert stray == [], f"add these to [tool.flet.app].exclude in pyproject.toml, or keep them off the phone: {stray}"
    assert not [f for f in files if f.startswith(("sync/", "assets/source/"))]


def test_the_apk_python_is_the_one_built_for_every_phone_abi(flet_apk):
    """flet-cli takes the APK's Python from project.requires-python (the highest release
    of Flet's manifest it allows). Only 3.12 is built for 32-bit ARM (armeabi-v7a), the
    cheap phones many volunteers carry; 3.13 and 3.14 are 64-bit only."""
    release = flet_apk.python_release
    assert release.short == "3.12", f"flet build would bundle Python {release.short} (manifest: {MANIFEST})"
    assert set(PHONE_ABIS) <= set(release.android_abis)
    options = flet_apk.template_data["options"]
    assert options["python_version"] == "3.12"
    # Named in [tool.flet.android].target_arch, so a Python without one of them stops the build.
    assert sorted(options["target_arch"]) == sorted(PHONE_ABIS)
    assert options["android_excluded_abis"] == []


def _pins(cmd) -> dict:
    from packaging.requirements import Requirement

    pins = {}
    for text in apk_requirements(cmd):
        r = Requirement(text)
        specs = list(r.specifier)
        if len(specs) == 1 and specs[0].operator == "==":
            pins[r.name] = specs[0].version
    return pins


def test_every_compiled_phone_package_is_pinned_to_a_version_flets_index_hosts(flet_apk):
    """Each compiled package the phone needs is pinned (`==`) to a version that
    flet-dev/mobile-forge builds for the APK's Python (tests/fixtures/flet/android-index.json)."""
    python = flet_apk.python_release.short
    pins = _pins(flet_apk)
    # pydantic pins its core with ==; pinning both is what Flet's recipe warns against.
    assert "pydantic-core" not in pins, "pin pydantic, not pydantic-core (its version follows pydantic's)"
    core_of = ANDROID_INDEX["pydantic_core_of_pydantic"]
    assert "pydantic" in pins and pins["pydantic"] in core_of, "pin pydantic to a release whose core pin is known"
    resolved = {**pins, "pydantic-core": core_of[pins["pydantic"]]}
    wrong = {}
    for name, entry in ANDROID_INDEX["packages"].items():
        hosted = entry["hosted"].get(python, [])
        if resolved.get(name) not in hosted:
            wrong[name] = (resolved.get(name), f"hosted for Python {python}: {hosted}", entry["source"])
    assert wrong == {}


def _app_top_level() -> set[str]:
    """The names `import X` must find as the app's own: the repository's top-level modules and folders."""
    names = {p.name.removesuffix(".py") for p in ROOT.iterdir() if p.is_dir() or p.suffix == ".py"}
    # Only what `import X` could name: not `.git`, `fieldapp.egg-info`, nor the `__pycache__` any run leaves.
    importable = {n for n in names if n.isidentifier() and n != "__pycache__"}
    return importable | {"fieldapp", "sync", "main", "tests", "bench", "docs", "assets"}


def _removed_by_cleanup(name: str, patterns: list[str]) -> bool:
    # serious_python's package command (flet-dev/serious-python,
    # src/serious_python/bin/package_command.dart, cleanupDir) matches each glob
    # against an entry's path relative to site-packages and deletes what matches.
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def test_no_package_the_apk_installs_shadows_the_apps_modules(flet_apk):
    """cryptography 43.0.1's Android wheels install top-level tests/, _cffi_src/, docs/
    and rust/ beside the package: on a phone `import tests` could find them.
    [tool.flet.cleanup].package_files deletes them from site-packages."""
    pins = _pins(flet_apk)
    patterns = flet_apk.get_platform_setting("cleanup.package_files") or []
    assert isinstance(patterns, list)
    left = {}
    for name, entry in ANDROID_INDEX["packages"].items():
        extra = entry["extra_top_level"].get(pins.get(name, ""), [])
        kept = {folder for folder in extra if not _removed_by_cleanup(folder, patterns)}
        if kept:
            left[name] = sorted(kept)
    assert left == {}


def test_the_apk_requirements_are_the_phone_extra_plus_flets_pins(flet_apk):
    from packaging.requirements import Requirement

    requirements = [Requirement(r) for r in apk_requirements(flet_apk)]
    names = {r.name for r in requirements}
    phone = {Requirement(r).name for r in flet_apk.get_pyproject("project.optional-dependencies.phone")}
    core = {Requirement(r).name for r in flet_apk.get_pyproject("project.dependencies")}
    assert core == {"pydantic"}
    assert phone <= names, "the phone extra and [tool.flet.android].dependencies have drifted apart"
    # Beyond the phone extra, only pins of what it pulls in (the compiled packages Flet's index builds).
    assert names <= phone | core | set(ANDROID_INDEX["packages"])
    assert not names & set(SERVER_PACKAGES)
    server = {Requirement(r).name for r in flet_apk.get_pyproject("project.optional-dependencies.server")}
    assert not server & set(FLET_PACKAGES)


# ---------------------------------------------------------------------------
# (c) neither the server nor the core imports Flet
# ---------------------------------------------------------------------------

CORE = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fieldapp" / "core").glob("*.py"))
OWN = ("fieldapp", "sync")


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module an import statement anywhere in the file names (functions included)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    return names


def _reach(start: list[Path]) -> tuple[set[str], set[str]]:
    """(own modules reached, outside top-level packages imported) from the given files, transitively.
    Importing a.b.c runs a/__init__.py and a/b/__init__.py too, so those count."""
    seen: set[str] = set()
    outside: set[str] = set()
    todo = [_module_name(p) for p in start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        assert path is not None, name
        for imported in _imports(path):
            top = imported.split(".")[0]
            if top not in OWN:
                outside.add(top)
                continue
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if _module_file(prefix) is not None and prefix not in seen:
                    todo.append(prefix)
    return seen, outside


def _is_flet(top: str) -> bool:
    return top == "flet" or top.startswith("flet_")


def test_the_server_imports_nothing_of_flet():
    server = sorted((ROOT / "sync" / "server").rglob("*.py"))
    assert server
    reached, outside = _reach(server)
    assert not [m for m in outside if _is_flet(m)], sorted(outside)
    assert "tinydb" not in outside
    # Nothing of the phone's own code either: its store, screens and sync client.
    phone_side = [m for m in reached if m.startswith(("fieldapp.ui", "fieldapp.store", "fieldapp.sync", "fieldapp.cli"))]
    assert phone_side == []


@pytest.mark.parametrize("path", CORE)
def test_the_core_is_pydantic_only(path):
    reached, outside = _reach([ROOT / path])
    assert not [m for m in outside if _is_flet(m)]
    third_party = {m for m in outside if m not in sys.stdlib_module_names and m != "__future__"}
    assert third_party <= {"pydantic", "pydantic_core", "typing_extensions"}, third_party
    assert not [m for m in reached if m.startswith(("fieldapp.ui", "fieldapp.store", "fieldapp.sync", "sync"))]


# ---------------------------------------------------------------------------
# (b), (d) fresh virtual environments
# ---------------------------------------------------------------------------


WHEELHOUSE = Path(os.environ.get("FIELDAPP_WHEELHOUSE") or Path.home() / ".cache" / "fieldapp" / "wheelhouse")


def _pip(python: Path, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
        capture_output=True, text=True, timeout=600, env=_clean_env(),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _venv(folder: Path, requirements: list[str], fetch: list[str] | None = None) -> Path:
    """A fresh virtual environment with `requirements` installed from the wheelhouse alone; its python.
    What the wheelhouse lacks is fetched once: `fetch` (default: `requirements`), with their dependencies,
    as the venv's own Python needs them."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True)
    python = folder / "bin" / "python"
    fetch = requirements if fetch is None else fetch
    key = hashlib.sha256(json.dumps([sys.version_info[:2], sorted(fetch)]).encode()).hexdigest()[:16]
    stamp = WHEELHOUSE / "fetched" / key
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    # One filling at a time (test processes, or two runs on one machine): none reads a wheel half written.
    with open(WHEELHOUSE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            _pip(python, "download", "--dest", str(WHEELHOUSE), *fetch)
            stamp.parent.mkdir(exist_ok=True)
            stamp.write_text("\n".join(sorted(fetch)) + "\n", encoding="utf-8")
        fcntl.flock(lock, fcntl.LOCK_SH)  # what this install reads stays as it is
        # No byte-compiling of every installed file: what the tests import is compiled as it is imported.
        _pip(python, "install", "--no-index", "--no-compile", "--find-links", str(WHEELHOUSE), *requirements)
    return python


def _installed(python: Path) -> set[str]:
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout
    return {p["name"].lower().replace("_", "-") for p in json.loads(listed)}


@pytest.fixture(scope="module")
def phone_env(flet_apk, tmp_path_factory):
    """The APK's requirements alone in a fresh venv, and a copy of the app as the APK holds it."""
    base = tmp_path_factory.mktemp("phone")
    python = _venv(base / "venv", apk_requirements(flet_apk))
    app = base / "app"
    for rel in apk_files(flet_apk):
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, app / rel)
    return python, app


@pytest.fixture(scope="module")
def server_env(tmp_path_factory):
    """`pip install .[server]` in a fresh venv, from a copy of the tree (so the build leaves none of its files here)."""
    base = tmp_path_factory.mktemp("server")
    source = base / "source"
    shutil.copytree(
        ROOT, source,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "run-data", "*.egg-info", "__pycache__", "docs",
                                      ".pytest_cache", ".hypothesis", "bench"),
    )
    # Building the project from its source needs its build backend from the wheelhouse too.
    from packaging.requirements import Requirement

    pyproject = load_pyproject_toml(ROOT)
    fetch = [*pyproject("build-system.requires"), *pyproject("project.dependencies"),
             *pyproject("project.optional-dependencies.server")]
    assert all(Requirement(r).name != "fieldapp" for r in fetch)
    python = _venv(base / "venv", [f"{source}[server]"], fetch=fetch)
    return python, base


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_phone_runs_on_its_own_requirements(phone_env, phone_pins):
    python, app = phone_env
    installed = _installed(python)
    assert not installed & set(SERVER_PACKAGES), sorted(installed & set(SERVER_PACKAGES))
    assert {"flet", "flet-charts", "flet-geolocator", "tinydb", "httpx", "pydantic"} <= installed
    assert _pinned_versions_differing(python, phone_pins) == {}
    # Nothing installed at the top of site-packages takes one of the app's names.
    assert not _top_level_installed(python) & _app_top_level()

    # Import every module the APK carries, as the APK would: from the app folder alone.
    modules = sorted(
        _module_name_in(app, path) for path in app.rglob("*.py") if path.relative_to(app).parts[0] in OWN
    )
    expected = {
        _module_name(p) for top in OWN for p in (ROOT / top).rglob("*.py")
        if "__pycache__" not in p.parts and not _module_name(p).startswith("sync")
    } - {"fieldapp.devrun", "fieldapp.ui.web"}  # a computer's only: `make run` and web mode
    assert set(modules) == expected
    # `python -m fieldapp` runs the command line, which the smoke run below does.
    modules = [m for m in modules if not m.endswith("__main__")]
    script = (
        "import importlib, importlib.util, json, sys\n"
        f"modules = {modules!r}\n"
        "failed = {}\n"
        "for name in modules + ['main']:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except BaseException as e:\n"
        "        failed[name] = repr(e)\n"
        "server = [m for m in ('fastapi', 'uvicorn', 'starlette', 'psycopg', 'flet_web') if importlib.util.find_spec(m)]\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'uvicorn', 'starlette', 'psycopg'))\n"
        "print(json.dumps({'failed': failed, 'server': server, 'loaded': loaded}))\n"
    )
    done = subprocess.run([str(python), "-c", script], cwd=app, capture_output=True, text=True, timeout=120,
                          env={**_clean_env(), "PYTHONPATH": str(app)})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"failed": {}, "server": [], "loaded": []}

    # And the device command line works there: save, count, export.
    data = app.parent / "device"
    for args in (["demo", "--calls", "2"], ["status", "--json"], ["export"]):
        run = subprocess.run([str(python), "-m", "fieldapp", *args, "--data", str(data)], cwd=app,
                             capture_output=True, text=True, timeout=120, env=_clean_env())
        assert run.returncode == 0, (args, run.stdout[-2000:], run.stderr[-2000:])


@pytest.fixture(scope="module")
def phone_pins(flet_apk) -> dict:
    """Every version the APK installs exactly: its pins, and the pydantic-core its pydantic pins."""
    pins = _pins(flet_apk)
    return {**pins, "pydantic-core": ANDROID_INDEX["pydantic_core_of_pydantic"][pins["pydantic"]]}


def _pinned_versions_differing(python: Path, pins: dict) -> dict:
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True,
    ).stdout
    installed = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(listed)}
    return {name: (version, installed.get(name)) for name, version in pins.items() if installed.get(name) != version}


def _top_level_installed(python: Path) -> set[str]:
    """The first path part of every file every installed distribution put into site-packages."""
    script = (
        "import importlib.metadata as m, json\n"
        "names = {str(f).split('/')[0].removesuffix('.py') for d in m.distributions() for f in (d.files or [])}\n"
        "print(json.dumps(sorted(n for n in names if n and not n.startswith('..'))))\n"
    )
    # Run from the venv's folder: `-c` puts the working folder on sys.path, and from the repository's root
    # its `fieldapp.egg-info` (the editable install's) would be counted as installed there.
    done = subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True, env=_clean_env(),
                          cwd=python.parent)
    return set(json.loads(done.stdout))


@pytest.mark.slow
def test_the_suite_runs_on_the_phones_pins(phone_pins):
    """`make test` installs its environment under the APK's pins (the Makefile's constraint, read from
    [tool.flet.android].dependencies), so the store, sync client and exports tests, and every other
    test of the phone's code, run on exactly the versions the APK installs, in the fresh venv a fresh
    clone gets. This test is the guard: run on other versions, it fails and names them."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    assert {name: installed(name) for name in phone_pins} == phone_pins


def _module_name_in(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "FIELDAPP_DATA")}
    return env


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_server_installs_without_flet_and_serves(server_env):
    python, base = server_env
    installed = _installed(python)
    assert not installed & set(FLET_PACKAGES), sorted(installed & set(FLET_PACKAGES))
    assert "tinydb" not in installed
    assert {"fastapi", "uvicorn", "pydantic"} <= installed
    # The device command line is there (the package is one), and says in one line what it lacks.
    for args in ([], ["status"]):
        run = subprocess.run([str(python.parent / "fieldapp"), *args], capture_output=True, text=True, timeout=60,
                             env=_clean_env())
        lines = (run.stdout + run.stderr).strip().splitlines()
        assert run.returncode == 69 and len(lines) == 1, (run.returncode, lines)
        assert "pip install 'fieldapp[phone]'" in lines[0]
    with _serving(python, base) as url, urllib.request.urlopen(f"{url}/api/v1/health", timeout=5) as answer:
        assert answer.status == 200
        assert json.loads(answer.read())["status"] == "ok"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_phone_on_its_pins_syncs_with_the_server_on_its_own(phone_env, server_env):
    """The two deployments, each in its own environment (pydantic 2.9 on the phone,
    the server's own pydantic), speak the same protocol."""
    phone, app = phone_env
    server, base = server_env
    device = base / "device"

    def fieldapp(*args):
        run = subprocess.run([str(phone), "-m", "fieldapp", *args, "--data", str(device)], cwd=app,
                             capture_output=True, text=True, timeout=120, env=_clean_env())
        assert run.returncode == 0, (args, run.stdout[-2000:], run.stderr[-2000:])
        return run.stdout

    fieldapp("demo", "--calls", "3")
    device_id = json.loads(fieldapp("status", "--json"))["device_id"]
    with _serving(server, base) as url:
        token = subprocess.run(
            [str(server.parent / "fieldapp-server"), "enroll", "--team", "packaging", "--device", device_id,
             "--role", "lead", "--database", _database(base)],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout.strip().splitlines()[-1]
        fieldapp("enroll", url, token)
        fieldapp("sync", "--once")
        status = json.loads(fieldapp("status", "--json"))
    assert status["records"]["pending"] == 0
    assert status["records"]["sent"] == status["records"]["total"] > 0


def _database(base: Path) -> str:
    return f"sqlite:///{base / 'server.db'}"


class _serving:
    """`fieldapp-server serve` from the given venv on a free loopback port, until the block ends."""

    def __init__(self, python: Path, base: Path):
        self.python, self.base = python, base

    def __enter__(self) -> str:
        from tests.conftest import free_port

        port = free_port()
        self.log = open(self.base / f"server-{port}.log", "wb")
        self.proc = subprocess.Popen(
            [str(self.python.parent / "fieldapp-server"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--database", _database(self.base)],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=_clean_env(),
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.base / f"server-{port}.log").read_text(errors="replace")
            try:
                urllib.request.urlopen(f"{url}/api/v1/health", timeout=1).close()
                return url
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise AssertionError(f"the server did not answer within 60 s; see {self.log.name}")

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

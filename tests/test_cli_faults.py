"""The device command line under a full disk, a read-only data folder and damaged files.

One clear line on stderr, a distinct non-zero exit, never a traceback, never a
record's content or the token, and nothing lost: every save that returned
before the failure is still there afterwards.

As root (CI) the disk is a real small tmpfs mounted by the test and the
commands run as their own processes. Where mounting is not allowed the same
tests run in this process with the error injected at the file layer
(`fieldapp.store.durable` and the store lock see ENOSPC / EROFS).
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fieldapp import cli
from fieldapp.store import DamagedFile, RecordStore, StoreError, durable, lock

ROOT = Path(__file__).resolve().parents[1]
EXIT_DISK_FULL, EXIT_NOT_WRITABLE, EXIT_DAMAGED, EXIT_OUTPUT, EXIT_BUG = 3, 4, 5, 6, 70


def one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and lines[0].startswith("fieldapp: "), stderr
    for private in ("Demo Name", "اسم تجريبي", "+963", "secret-token"):
        assert private not in stderr
    return lines[0]


def run_inside(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def run_process(*args: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "fieldapp", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    return done.returncode, done.stdout, done.stderr


def mount_tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def unmount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


class _FileLayer:
    """`os` as `fieldapp.store.durable` and the store lock see it, with a disk that fills or turns read-only."""

    def __init__(self, real):
        self._real = real
        self.budget: int | None = None  # bytes left before ENOSPC
        self.read_only = False

    def __getattr__(self, name):
        return getattr(self._real, name)

    def open(self, path, flags, *rest, **kw):
        if self.read_only and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
        return self._real.open(path, flags, *rest, **kw)

    def write(self, fd, data):
        if self.budget is not None:
            if len(data) > self.budget:
                self.budget = 0
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.budget -= len(data)
        return self._real.write(fd, data)

    def replace(self, src, dst, *rest, **kw):
        if self.read_only:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(src))
        return self._real.replace(src, dst, *rest, **kw)


@pytest.fixture(params=["tmpfs", "injected"])
def disk(request, tmp_path, monkeypatch):
    """A data folder on a disk the test can fill or turn read-only: a real tmpfs (as root), and injected."""
    if request.param == "tmpfs" and os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the injected variant of this test runs instead")

    class Disk:
        folder = tmp_path / "mnt" / "device"
        # as root without the right to mount, the injected file layer stands in (the sentinel test fails)
        real = request.param == "tmpfs" and mount_tmpfs(tmp_path / "mnt", "256k")
        layer = None

        def run(self, *args: str, data: Path | None = None) -> tuple[int, str, str]:
            args = (*args, "--data", str(data or self.folder))
            return run_process(*args) if self.real else run_inside(*args)

        def fill(self) -> None:
            if self.real:
                try:
                    with open(tmp_path / "mnt" / "filler", "wb", buffering=0) as f:
                        while True:
                            f.write(b"\0" * 1024)
                except OSError:
                    pass
            else:
                self.inject().budget = 0

        def fill_after(self, size: int) -> None:
            if not self.real:
                self.inject().budget = size  # the real tmpfs is small already

        def read_only(self, on: bool) -> None:
            if self.real:
                mode = "ro" if on else "rw"
                assert subprocess.run(["mount", "-o", f"remount,{mode}", str(tmp_path / "mnt")]).returncode == 0
            else:
                self.inject().read_only = on

        def inject(self) -> _FileLayer:
            if self.layer is None:
                self.layer = _FileLayer(os)
                monkeypatch.setattr(durable, "os", self.layer)
                monkeypatch.setattr(lock, "os", self.layer)
            return self.layer

        def rescued(self) -> Path:
            """The folder as it stands, somewhere with room, the fault gone."""
            copy = tmp_path / "rescued"
            shutil.copytree(self.folder, copy)
            if self.layer is not None:
                self.layer.budget, self.layer.read_only = None, False
            return copy

    disk = Disk()
    yield disk
    if disk.real:
        unmount(tmp_path / "mnt")


def test_the_real_tmpfs_is_used_when_running_as_root(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("not root: the tests below run with the error injected at the file layer")
    assert mount_tmpfs(tmp_path / "mnt", "256k"), "running as root but a tmpfs could not be mounted"
    unmount(tmp_path / "mnt")


def test_a_disk_that_fills_during_demo_is_one_line_and_keeps_every_echoed_save(disk):
    disk.fill_after(120_000)
    code, stdout, stderr = disk.run("demo", "--calls", "400", "--echo", "--seed", "1")
    line = one_clear_line(stderr)
    echoed = stdout.split()
    assert code == EXIT_DISK_FULL and echoed, stderr
    assert line.startswith(f"fieldapp: the disk is full ({disk.folder}): nothing was saved after {echoed[-1]}; "
                           f"the {len(echoed)} records saved up to it are kept")

    store = RecordStore.open(disk.rescued())
    try:
        kept = {r.id for r in store.iter_current()}
        assert store.problems == []
    finally:
        store.close()
    assert set(echoed) <= kept


def test_every_command_on_a_full_disk_is_one_line_and_changes_nothing(disk):
    assert disk.run("demo", "--calls", "3", "--seed", "2")[0] == 0
    before = disk.run("export")[1]
    disk.fill()
    code, _, stderr = disk.run("demo", "--calls", "3")
    assert code == EXIT_DISK_FULL
    assert one_clear_line(stderr) == (f"fieldapp: the disk is full ({disk.folder}): no record was saved; "
                                      "free some space and try again")
    code, stdout, stderr = disk.run("sync", "--once")  # not enrolled; recording the pass hits the full disk
    assert code == EXIT_DISK_FULL, stderr
    assert one_clear_line(stderr).startswith(f"fieldapp: the disk is full ({disk.folder}): ")
    # reading still works on a full disk
    code, stdout, stderr = disk.run("export")
    assert code == 0 and stdout == before, stderr
    assert disk.run("status")[0] == 0


def test_a_read_only_data_folder_is_one_line_per_command_and_nothing_changes(disk):
    assert disk.run("demo", "--calls", "3", "--seed", "3")[0] == 0
    before = disk.run("export")[1]
    disk.read_only(True)
    try:
        for command in (["status"], ["status", "--json"], ["export"], ["demo", "--calls", "2"], ["sync", "--once"]):
            code, stdout, stderr = disk.run(*command)
            line = one_clear_line(stderr)
            assert code == EXIT_NOT_WRITABLE, (command, stderr)
            assert line.startswith(f"fieldapp: the data folder {disk.folder} is read-only ("), line
            assert line.endswith(": nothing was changed"), line
        code, _, stderr = disk.run("status", data=disk.folder / "new")
        assert code == EXIT_NOT_WRITABLE and "is read-only" in one_clear_line(stderr)
    finally:
        disk.read_only(False)
    assert disk.run("export")[1] == before


def test_enroll_into_a_read_only_folder_names_it_and_never_the_token(disk, monkeypatch):
    class Server:
        def __init__(self, *args, **kw):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def health(self):
            return {}

        def pull(self, *args):
            return {}

    from fieldapp.sync import enrollment
    monkeypatch.setattr(enrollment, "SyncClient", Server)
    monkeypatch.setenv("FIELDAPP_TOKEN", "secret-token")
    disk.folder.mkdir(parents=True)
    disk.read_only(True)
    try:
        # in this process: the server check is stubbed out; the folder is the real (or injected) read-only one
        code, stdout, stderr = run_inside("enroll", "https://sync.example.org", "--data", str(disk.folder))
    finally:
        disk.read_only(False)
    assert code == EXIT_NOT_WRITABLE and "secret-token" not in stdout
    assert one_clear_line(stderr) == (f"fieldapp: the data folder {disk.folder} is read-only "
                                      f"({disk.folder / 'enrollment.json'}): the enrollment was not saved")
    assert enrollment.load(disk.folder) is None


def test_a_data_folder_that_is_a_file_is_named(tmp_path):
    (tmp_path / "file").write_text("x")
    code, _, stderr = run_process("status", "--data", str(tmp_path / "file"))
    assert code == EXIT_NOT_WRITABLE
    assert one_clear_line(stderr) == (f"fieldapp: the data folder {tmp_path / 'file'} is not a folder "
                                      f"({tmp_path / 'file'}): nothing was changed")


@pytest.mark.parametrize("error", [StoreError("days/2026-11-25.000.json cannot be read"),
                                   DamagedFile(Path("/d/meta.json"), "is not valid JSON (truncated or garbage)")])
def test_a_store_error_is_one_line_and_exit_5(data_dir, monkeypatch, error):
    def fail(folder):
        raise error

    monkeypatch.setattr(RecordStore, "open", staticmethod(fail))
    for command in ("status", "export", "demo"):
        code, _, stderr = run_inside(command, "--data", str(data_dir))
        assert code == EXIT_DAMAGED
        assert one_clear_line(stderr) == f"fieldapp: the store in {data_dir} cannot be read: {error}; nothing was changed"


def test_a_damaged_day_file_is_one_warning_line_and_the_rest_still_reads(data_dir):
    assert run_process("demo", "--calls", "5", "--seed", "4", "--data", str(data_dir))[0] == 0
    day = sorted((data_dir / "days").glob("*.json"))[0]
    day.write_text("garbage")
    day.with_name(day.name + ".bak").unlink(missing_ok=True)
    code, stdout, stderr = run_process("status", "--json", "--data", str(data_dir))
    assert code == 0
    assert one_clear_line(stderr).startswith(f"fieldapp: warning: {day.name} is not valid JSON")
    assert json.loads(stdout)["problems"]


def test_output_that_cannot_be_written(data_dir):
    assert run_inside("demo", "--calls", "2", "--data", str(data_dir))[0] == 0

    class Full(io.StringIO):
        def write(self, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    err = io.StringIO()
    assert cli.main(["export", "--data", str(data_dir)], out=Full(), err=err) == EXIT_OUTPUT
    assert one_clear_line(err.getvalue()) == ("fieldapp: the output could not be written: No space left on device; "
                                              "nothing was changed")
    err = io.StringIO()
    assert cli.main(["export", "--data", str(data_dir)], out=Closed(), err=err) == EXIT_OUTPUT
    assert err.getvalue() == ""  # `fieldapp export | head`: the reader left, nothing to tell it


def test_a_closed_pipe_is_quiet_in_a_real_process(data_dir):
    done = subprocess.run(f"{sys.executable} -m fieldapp demo --calls 300 --echo --data {data_dir} | head -1",
                          shell=True, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stderr == "" and len(done.stdout.split()) == 1


def test_an_unexpected_error_never_shows_what_it_was_about(data_dir, monkeypatch):
    from fieldapp import demo

    def broken(*args, **kw):
        raise ValueError("Demo Name 7 +963 900 123 456")

    monkeypatch.setattr(demo, "populate", broken)
    monkeypatch.delenv("FIELDAPP_DEBUG", raising=False)
    code, _, stderr = run_inside("demo", "--data", str(data_dir))
    assert code == EXIT_BUG
    assert one_clear_line(stderr) == ("fieldapp: unexpected error (ValueError) in `demo`: no record was saved; "
                                      "FIELDAPP_DEBUG=1 shows the details")
    monkeypatch.setenv("FIELDAPP_DEBUG", "1")
    with pytest.raises(ValueError):
        run_inside("demo", "--data", str(data_dir))


def test_help_lists_the_exit_codes():
    code, stdout, _ = run_process("--help")
    assert code == 0 and "exit codes:" in stdout and "3    the disk is full" in stdout

"""The outputs of a run as one set (issue 9, point 5): run id, staging, manifest written last,
``verify_outputs``, removal of what killed runs left; and a SIGKILL test on the real CLI."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import trygg_geo
from trygg_geo._outputs import MANIFEST, STAGING_PREFIX, OutputSet, new_run_id, verify_outputs

NAMES = ["karta.html", "resultat.gpkg", "rapport.md", "rapport.html"]


def _write_set(folder: Path, run_id: str, *, text: str = "a") -> dict[str, Path]:
    with OutputSet(folder, run_id=run_id, names=NAMES) as outputs:
        outputs.path("karta.html").write_text(f"<html>{text} run {run_id}</html>", encoding="utf-8")
        outputs.path("rapport.md").write_text(f"# {text}\nKörning {run_id}\n", encoding="utf-8")
        outputs.path("bild.png").write_bytes(b"\x89PNG" + text.encode())
        return outputs.commit()


def test_run_id_format() -> None:
    a, b = new_run_id(), new_run_id()
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", a) and a != b


def test_commit_writes_the_files_then_the_manifest(tmp_path: Path) -> None:
    rid = new_run_id()
    written = _write_set(tmp_path, rid)
    assert set(written) == {"karta.html", "rapport.md", "bild.png", MANIFEST}
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["run_id"] == rid
    assert [e["file"] for e in manifest["files"]][-1] == "rapport.md"  # the report last
    for e in manifest["files"]:
        data = (tmp_path / e["file"]).read_bytes()
        assert e["bytes"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest()
    check = verify_outputs(tmp_path)
    assert check and check.run_id == rid and not check.mismatched
    assert "complete and consistent" in str(check)
    assert not list(tmp_path.glob(".*")), "no staging folder or temporary file is left"
    assert trygg_geo.verify_outputs is verify_outputs


def test_verify_names_changed_missing_and_foreign_files(tmp_path: Path) -> None:
    rid = new_run_id()
    _write_set(tmp_path, rid)
    other = new_run_id()
    (tmp_path / "karta.html").write_text(f"<html>a newer map, run {other}</html>", encoding="utf-8")
    (tmp_path / "bild.png").unlink()
    check = verify_outputs(tmp_path)
    assert not check
    assert check.changed == ("karta.html",) and check.missing == ("bild.png",)
    assert check.foreign == {"karta.html": other}
    assert set(check.mismatched) == {"karta.html", "bild.png"}
    assert "karta.html" in str(check) and "bild.png" in str(check) and "Fix" in str(check)


def test_verify_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "karta.html").write_text("x", encoding="utf-8")
    check = verify_outputs(tmp_path)
    assert not check and MANIFEST in check.problems[0]
    (tmp_path / MANIFEST).write_text("{not json", encoding="utf-8")
    assert "cannot be read" in verify_outputs(tmp_path).problems[0]


def test_an_error_while_writing_leaves_the_previous_set(tmp_path: Path) -> None:
    _write_set(tmp_path, new_run_id(), text="old")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(RuntimeError), OutputSet(tmp_path, run_id=new_run_id(), names=NAMES) as outputs:
        outputs.path("karta.html").write_text("half", encoding="utf-8")
        raise RuntimeError("the report failed")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert verify_outputs(tmp_path)


def test_stale_temporaries_of_our_outputs_are_removed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    old = time.time() - 3600
    stale = [tmp_path / ".karta.tmp-ab12.html", tmp_path / ".resultat.tmp-x9.gpkg",
             tmp_path / ".resultat.tmp-x9.gpkg-journal", tmp_path / ".rapport.tmp-q.md-wal",
             tmp_path / ".korning.tmp-1.json"]
    keep = [tmp_path / ".annan.tmp-ab12.html", tmp_path / ".karta.tmp-ab12.txt", tmp_path / "egen.html"]
    for p in stale + keep:
        p.write_text("x", encoding="utf-8")
        os.utime(p, (old, old))
    dead = tmp_path / f"{STAGING_PREFIX}20200101T000000Z-dead00"
    dead.mkdir()
    (dead / ".owner").write_text(f"{os.uname().nodename} 999999999\n", encoding="utf-8")
    (dead / "resultat.gpkg").write_text("half", encoding="utf-8")
    alive = tmp_path / f"{STAGING_PREFIX}20200101T000000Z-a11ve0"
    alive.mkdir()
    (alive / ".owner").write_text(f"{os.uname().nodename} {os.getppid()}\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="trygg_geo"):
        _write_set(tmp_path, new_run_id())
    assert not any(p.exists() for p in stale) and not dead.exists()
    assert all(p.exists() for p in keep), "files that are not ours stay"
    assert alive.exists(), "the staging folder of a run that is still running stays"
    assert "removed" in caplog.text and ".karta.tmp-ab12.html" in caplog.text


# ---------------------------------------------------------------------------- SIGKILL on the real CLI


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


class _Cli:
    def __init__(self, cwd: Path, cfg: Path) -> None:
        self.cwd, self.cfg = cwd, cfg

    def rename(self, name: str) -> None:
        text = self.cfg.read_text(encoding="utf-8")
        self.cfg.write_text(re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', text, count=1), encoding="utf-8")

    def start(self, pause: str | None = None) -> tuple[subprocess.Popen[str], Path]:
        env = dict(os.environ)
        mark = self.cwd / f"pause-{time.monotonic_ns()}"
        env.pop("TRYGG_GEO_TEST_PAUSE", None)
        if pause:
            env.update(TRYGG_GEO_TEST_PAUSE=pause, TRYGG_GEO_TEST_PAUSE_MARK=str(mark))
        proc = subprocess.Popen([sys.executable, "-m", "trygg_geo.cli", "run", str(self.cfg)], cwd=self.cwd,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return proc, mark

    def run_ok(self) -> str:
        proc, _ = self.start()
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        return err

    @staticmethod
    def kill(proc: subprocess.Popen[str]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL

    def kill_at_mark(self, pause: str) -> None:
        proc, mark = self.start(pause)
        deadline = time.monotonic() + 240
        while not mark.exists():
            assert proc.poll() is None, f"the run ended before '{pause}': {proc.communicate()[1]}"
            assert time.monotonic() < deadline, f"no pause at '{pause}'"
            time.sleep(0.05)
        self.kill(proc)

    def kill_after_line(self, needle: str, delay: float) -> bool:
        """Kill ``delay`` s after a progress line holding ``needle``; False if the run finished first."""
        proc, _ = self.start()
        assert proc.stderr is not None
        for line in proc.stderr:
            if needle in line:
                break
        else:
            pytest.fail(f"no progress line with {needle!r}")
        time.sleep(delay)
        if proc.poll() is not None:
            proc.communicate()
            return False
        self.kill(proc)
        return True


def _intact_or_detected(folder: Path, previous: dict[str, str]) -> tuple[bool, set[str]]:
    """After a kill: the previous set is intact, or verify_outputs names every file that changed."""
    now = _snapshot(folder)
    changed = {n for n in set(now) | set(previous) if now.get(n) != previous.get(n)}
    check = verify_outputs(folder)
    if check:
        assert not changed, f"verify says consistent, but these changed silently: {changed}"
        return True, changed
    assert changed, f"nothing changed, but verify says: {check}"
    assert changed <= set(check.mismatched), f"{changed} changed, verify named only {check.mismatched}"
    return False, changed


@pytest.mark.slow
def test_sigkill_at_any_point_leaves_the_previous_outputs_or_a_detectably_mixed_set(tmp_path: Path) -> None:
    from trygg_geo.demo import make_demo_city

    city = make_demo_city(tmp_path / "indata", seed=2024)
    cfg = Path(city.config)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('folder = "."', 'folder = "../ut"'), encoding="utf-8")
    ut = tmp_path / "ut"
    cli = _Cli(tmp_path, cfg)

    cli.run_ok()
    good = _snapshot(ut)
    assert verify_outputs(ut) and MANIFEST in good and len(good) >= 6

    # 1. in geocoding: nothing of the new run has been written yet
    cli.rename("Körning 1")
    assert cli.kill_after_line("Geokodar", 0.5)
    assert _intact_or_detected(ut, good) == (True, set())

    # 2. in the middle of the GeoPackage write (a half-written SQLite file with its journal)
    cli.rename("Körning 2")
    cli.kill_at_mark("geopackage:omraden")
    assert _intact_or_detected(ut, good) == (True, set())
    assert list(ut.glob(f"{STAGING_PREFIX}*")), "the killed run left its staging folder"

    # 3. somewhere while writing the outputs, without a hook
    cli.rename("Körning 3")
    if not cli.kill_after_line("Skriver", 0.4):  # the run won the race and finished: a new good set
        assert verify_outputs(ut)
        good = _snapshot(ut)
    if not _intact_or_detected(ut, good)[0]:  # killed inside the tiny commit window: detected; start over
        cli.run_ok()
        good = _snapshot(ut)

    # 4. all outputs staged, none moved into place
    cli.rename("Körning 4")
    cli.kill_at_mark("staged")
    assert _intact_or_detected(ut, good) == (True, set())

    # 5. between files while moving them into place: a mixed set, and verify names the new files
    cli.rename("Körning 5")
    cli.kill_at_mark("commit:2")
    intact, changed = _intact_or_detected(ut, good)
    assert not intact and len(changed) == 2

    # a temporary file left by a write that was killed outside staging (an older trygg-geo)
    old = time.time() - 60
    for name in (".resultat.tmp-dead.gpkg", ".resultat.tmp-dead.gpkg-journal", ".karta.tmp-dead.html"):
        (ut / name).write_text("half", encoding="utf-8")
        os.utime(ut / name, (old, old))

    # the next run writes a good set and removes everything the killed runs left
    cli.rename("Körning 6")
    err = cli.run_ok()
    check = verify_outputs(ut)
    assert check, check
    assert "removed" in err
    assert sorted(p.name for p in ut.iterdir() if p.name.startswith(".")) == []
    manifest = json.loads((ut / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["run_id"] == check.run_id
    assert check.run_id in (ut / "karta.html").read_text(encoding="utf-8")
    assert not check.unstamped, f"outputs without the run id: {check.unstamped}"

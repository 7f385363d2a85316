"""One error path in the CLI (issue 9, point 2): exit 2 with one line for our errors, exit 1 with
one line and a bug log for anything else, 130 on Ctrl-C, and never a traceback on the terminal."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest

import trygg_geo._inputs
import trygg_geo.pipeline
from trygg_geo import cli
from trygg_geo._errors import ConfigError

CONFIG = """\
[areas]
path = "a.gpkg"
[register]
path = "r.csv"
[gazetteer]
path = "g.osm"
[survey]
path = "s.csv"
[output]
folder = "ut"
"""


def _config(tmp_path: Path, *, make_out: bool = True) -> Path:
    p = tmp_path / "projekt.toml"
    p.write_text(CONFIG, encoding="utf-8")
    if make_out:
        (tmp_path / "ut").mkdir()
    return p


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    return code, out, err


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("trygg-geo:")]
    assert len(lines) == 1, err
    return lines[0]


def test_package_error_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "run", str(tmp_path / "nope.toml"))
    assert code == 2
    line = _one_line(err)
    assert "nope.toml" in line and "Gör så här:" in line  # the run's language, Swedish here
    code, _, err = _run(capsys, "run", str(tmp_path / "nope.toml"), "--lang", "en")
    assert code == 2 and "nope.toml" in err and "Fix:" in err and "finns inte" not in err


def test_multi_line_message_is_flattened(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    def boom(args: object) -> int:
        raise ConfigError("'x.toml': [survey] min_n\nis wrong.\r\n  Fix: write min_n = 30.")

    monkeypatch.setattr(cli, "_cmd_run", boom)
    code, _, err = _run(capsys, "run", "x.toml")
    assert code == 2
    assert err.strip() == "trygg-geo: 'x.toml': [survey] min_n is wrong. Fix: write min_n = 30."


def test_unexpected_exception_is_a_bug_with_a_log_in_the_output_folder(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*a: object, **k: object) -> None:
        raise ZeroDivisionError("an internal slip\nover two lines")

    monkeypatch.setattr(trygg_geo._inputs, "read_areas", broken)
    cfg = _config(tmp_path)
    code, _, err = _run(capsys, "run", str(cfg))
    assert code == 1
    line = _one_line(err)
    log = tmp_path / "ut" / cli.BUG_LOG
    assert "bug in trygg-geo" in line and str(log) in line and "report" in line
    assert "ZeroDivisionError: an internal slip over two lines" in line
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "in broken" in text and "ZeroDivisionError" in text
    assert f"trygg-geo run {cfg}" in text


def test_bug_log_goes_to_the_temp_folder_when_the_output_folder_is_unknown(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken(args: object) -> int:
        raise RuntimeError("before the config was read")

    monkeypatch.setattr(cli, "_cmd_run", broken)
    code, _, err = _run(capsys, "run", "x.toml")
    assert code == 1
    logs = list(tmp_path.glob("trygg-geo-fel-*.log"))
    assert len(logs) == 1
    assert str(logs[0]) in _one_line(err)
    assert "RuntimeError: before the config was read" in logs[0].read_text(encoding="utf-8")


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(trygg_geo._inputs, "read_areas", interrupted)
    code, _, err = _run(capsys, "run", str(_config(tmp_path)))
    assert code == 130
    assert "interrupted" in _one_line(err)
    assert not (tmp_path / "ut" / cli.BUG_LOG).exists()


def test_user_fixable_os_error_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    def denied(*a: object, **k: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "a.gpkg"))

    monkeypatch.setattr(trygg_geo._inputs, "read_areas", denied)
    code, _, err = _run(capsys, "run", str(_config(tmp_path)))
    assert code == 2
    line = _one_line(err)
    assert "a.gpkg" in line and "Fix" in line


def test_argparse_errors_stay_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["run"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        cli.main(["nosuchcommand"])
    assert e.value.code == 2


def test_config_type_error_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    cfg.write_text(CONFIG + '[analysis]\nseed = "abc"\n', encoding="utf-8")
    code, _, err = _run(capsys, "run", str(cfg))
    assert code == 2
    line = _one_line(err)
    assert "[analysis] seed" in line and "whole number" in line and "Fix: write seed = 42" in line


def test_geocode_refuses_to_overwrite_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gaz = tmp_path / "adresser.gpkg"
    gaz.write_bytes(b"not read: refused before")
    code, _, err = _run(capsys, "geocode", str(tmp_path / "r.csv"), "--gazetteer", str(gaz), "--out", str(gaz))
    assert code == 2
    line = _one_line(err)
    assert "--out" in line and "--gazetteer" in line and "Fix" in line
    code, _, err = _run(capsys, "geocode", str(tmp_path / "r.csv"), "--gazetteer", str(gaz),
                        "--out", str(tmp_path / "ut.csv"))
    assert code == 2 and ".gpkg" in _one_line(err)


def test_geocode_bug_log_beside_the_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import trygg_geo.io

    def broken(*a: object, **k: object) -> None:
        raise AttributeError("no such thing")

    monkeypatch.setattr(trygg_geo.io, "read_register", broken)
    code, _, err = _run(capsys, "geocode", str(tmp_path / "r.csv"), "--gazetteer", str(tmp_path / "g.osm"),
                        "--out", str(tmp_path / "ut.gpkg"))
    assert code == 1
    assert str(tmp_path / cli.BUG_LOG) in _one_line(err)
    assert "AttributeError: no such thing" in (tmp_path / cli.BUG_LOG).read_text(encoding="utf-8")


def test_main_leaves_no_logging_handlers_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = list(logging.getLogger().handlers)
    level = logging.getLogger("trygg_geo").level
    for _ in range(3):
        _run(capsys, "run", str(tmp_path / "nope.toml"))
    assert logging.getLogger().handlers == before
    assert logging.getLogger("trygg_geo").level == level


def test_verify_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "verify", str(tmp_path))
    assert code == 2 and "korning.json" in out


def test_warnings_are_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import warnings

    from trygg_geo._errors import DataQualityWarning

    def warns(args: object) -> int:
        warnings.warn("file 'r.csv', row 3:\nan odd amount", DataQualityWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "_cmd_run", warns)
    code, _, err = _run(capsys, "run", "x.toml")
    assert code == 0
    assert err.strip() == "varning: file 'r.csv', row 3: an odd amount"


def test_library_warnings_only_under_verbose(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """numpy's "All-NaN slice encountered" says nothing a user can act on: log only."""
    import warnings

    import numpy as np

    def warns(args: object) -> int:
        np.nanmax(np.array([np.nan]))  # RuntimeWarning: All-NaN slice encountered
        warnings.warn("old API", FutureWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "_cmd_run", warns)
    code, _, err = _run(capsys, "run", "x.toml")
    assert code == 0 and err.strip() == ""
    code, _, err = _run(capsys, "-v", "run", "x.toml")
    assert code == 0
    assert "RuntimeWarning" in err and "All-NaN slice" in err and "FutureWarning" in err
    assert len([ln for ln in err.splitlines() if "Warning" in ln]) == 2

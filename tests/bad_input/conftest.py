"""Harness for the bad-input corpus (issue 9, point 6).

Every case starts from a fresh copy of the demo city's inputs (built once per session by our
own generator, never stored), changes one thing the way a careless or hostile user would, runs
the real command line in-process (``trygg_geo.cli.main``) and checks three things:

1. the exit code (2 for input the user must fix, 0 when the run could answer);
2. the one-line message names the place (file, row, column or config key) and the fix, and
   no traceback reaches the user;
3. every register row is accounted for: when the run wrote a GeoPackage, its placed layers plus
   ``ej_placerade`` hold each register row exactly once.

Use the ``case`` fixture::

    def test_x(case):
        case.edit_csv("investeringar.csv", lambda df: df.assign(**{"Beviljat (kr)": "-5"}))
        r = case.run()
        r.expect(2, "investeringar.csv", "row 2")
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from trygg_geo import cli
from trygg_geo.demo import make_demo_city

REGISTER = "investeringar.csv"
SURVEY = "trygghetsmatning.csv"
INCIDENTS = "handelser.csv"
AREAS = "stadsdelar.geojson"
CONFIG = "projekt.toml"


@pytest.fixture(scope="session")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city's input files (seed 2024), written once per session."""
    folder = tmp_path_factory.mktemp("demo_inputs")
    make_demo_city(folder, seed=2024)
    return folder


@dataclass
class RunResult:
    code: int
    out: str
    err: str
    folder: Path
    case: BadInputCase

    @property
    def message(self) -> str:
        return self.err

    def expect(self, code: int, *needles: str) -> RunResult:
        """Assert the exit code, that every needle is in the message, and no traceback."""
        assert self.code == code, (
            f"expected exit {code}, got {self.code}\n--- stderr ---\n{self.err}\n--- stdout ---\n{self.out}"
        )
        assert "Traceback" not in self.err and "Traceback" not in self.out, self.err
        text = self.err + self.out
        for n in needles:
            assert n.lower() in text.lower(), f"{n!r} not in the message:\n{text}"
        if code == 2:
            # one clear message: the error line names the problem in a single line
            lines = [ln for ln in self.err.splitlines() if ln.startswith("trygg-geo:")]
            assert len(lines) == 1, self.err
        if code == 0:
            self.assert_rows_accounted()
        return self

    def assert_rows_accounted(self) -> None:
        """Every register row is placed or unplaced exactly once in the GeoPackage."""
        import pyogrio

        gpkg = self.folder / "resultat.gpkg"
        assert gpkg.is_file(), f"no GeoPackage written in {self.folder}"
        rows: list[int] = []
        for layer in ("investeringar_punkt", "investeringar_linje", "investeringar_yta", "ej_placerade"):
            names = {n for n, _ in pyogrio.list_layers(gpkg)}
            if layer not in names:
                continue
            df = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)
            rows.extend(int(r) for r in df["source_row"])
        n = self.case.register_rows()
        assert sorted(rows) == sorted(set(rows)), "a register row appears twice"
        assert len(rows) == n, f"{len(rows)} rows in the GeoPackage, {n} in the register"


class BadInputCase:
    """A fresh copy of the demo inputs in ``folder``, with helpers to break them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    # ---------------------------------------------------------------- files
    def path(self, name: str) -> Path:
        return self.folder / name

    def read_csv(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.path(name), sep=";", dtype=str, keep_default_na=False,
                           encoding="utf-8-sig")

    def write_csv(self, name: str, df: pd.DataFrame) -> None:
        buf = io.StringIO()
        df.to_csv(buf, sep=";", index=False, quoting=csv.QUOTE_MINIMAL)
        self.path(name).write_text(buf.getvalue(), encoding="utf-8-sig")

    def edit_csv(self, name: str, fn: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
        """Apply ``fn`` to the file as a frame of strings (``fn`` may edit in place)."""
        df = self.read_csv(name)
        out = fn(df)
        self.write_csv(name, df if out is None else out)

    def set_cell(self, name: str, row: int, column: str, value: str) -> None:
        """Set one cell; ``row`` is the spreadsheet row (header = 1, first data row = 2)."""
        def f(df: pd.DataFrame) -> None:
            df.loc[row - 2, column] = value
        self.edit_csv(name, f)

    def edit_text(self, name: str, fn: Callable[[str], str]) -> None:
        p = self.path(name)
        p.write_text(fn(p.read_text(encoding="utf-8-sig")), encoding="utf-8")

    def set_config(self, section: str, key: str, value: str | None) -> None:
        """Set ``key = value`` (a TOML literal, e.g. ``'"abc"'`` or ``'5'``) in ``[section]``;
        ``None`` removes the key."""
        text = self.path(CONFIG).read_text(encoding="utf-8")
        blocks = re.split(r"(?m)^(?=\[)", text)
        for i, b in enumerate(blocks):
            if b.startswith(f"[{section}]"):
                lines = [ln for ln in b.splitlines() if not re.match(rf"\s*{re.escape(key)}\s*=", ln)]
                if value is not None:
                    lines.insert(1, f"{key} = {value}")
                blocks[i] = "\n".join(lines) + "\n\n"
                break
        else:
            if value is not None:
                blocks.append(f"\n[{section}]\n{key} = {value}\n")
        self.path(CONFIG).write_text("".join(blocks), encoding="utf-8")

    def register_rows(self) -> int:
        return len(self.read_csv(REGISTER))

    # ---------------------------------------------------------------- running
    def run(self, *args: str, capsys: pytest.CaptureFixture[str] | None = None) -> RunResult:
        """Run ``trygg-geo run projekt.toml`` (or ``args``) in-process."""
        argv = list(args) if args else ["run", str(self.path(CONFIG))]
        cap = capsys or self._capsys
        cap.readouterr()
        code = cli.main(argv)
        out, err = cap.readouterr()
        return RunResult(code=int(code), out=out, err=err, folder=self.folder, case=self)


@pytest.fixture
def case(demo_inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> BadInputCase:
    folder = tmp_path / "indata"
    shutil.copytree(demo_inputs, folder)
    c = BadInputCase(folder)
    c._capsys = capsys  # type: ignore[attr-defined]
    return c

"""Print every results/*.md together, under the README's head, for a check.

Each benchmark script writes its own figures to results/<topic>.md. benchmarks/README.md holds
those figures with interpretation written by hand, so it is edited, not regenerated: this
script prints the raw assembly to stdout (``python benchmarks/assemble.py > /tmp/raw.md``) to
compare against, and never overwrites the README.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["geocode", "overlay", "permutation", "staggered", "network", "density", "coverage"]

HEAD = """# Benchmarks

Speed is measured here, never as timed assertions in tests. Every figure is a ratio against a
baseline run **in the same process** on the same machine (2 shared cores, 24 GB), so the ratios
hold when absolute times swing with load. Each script takes `--quick` for a smoke run; the
figures below are from full runs. Each section's figures come from its script's
`results/<topic>.md`; the interpretation is written by hand (`python benchmarks/assemble.py`
prints the raw results together, for a check).

| script | what | headline |
|---|---|---|
| `bench_geocode.py` | 1,000,000-address gazetteer, 100,000-row damaged register | ~5,000 rows/s overall; recall 0.997, precision 0.998; peak 1.24 GB; blocked fuzzy 3.6x brute force |
| `bench_overlay.py` | 10M points into 117 stadsdelar and 5,000 Voronoi cells | 3.2x `sjoin` on Stockholm, 1.1x on 5,000 cells; dask 1 vs 2 workers recorded |
| `bench_permutation.py` | 10,000 permutations of the pooled DiD, 117 units x 5 waves | see below (target >= 20x a statsmodels refit loop, <= 1 s) |
| `bench_staggered.py` | Callaway-Sant'Anna on mpdta vs `csdid` | 1.3-3.6x faster, identical to 1e-16 |
| `bench_network.py` | 1,000 catchments, 800 m, ~100k-node graph | 50x `ego_graph` per source (10x with the one-off conversion) |
| `bench_density.py` | kernel density of 1M points at 25 m | 305-421x a direct KD-tree kernel sum |
| `coverage_study.py` | 95% CI coverage and false rejections on the demo city | see below |

"""


def main() -> None:
    parts = [HEAD]
    results = HERE / "results"
    names = [n for n in ORDER if (results / f"{n}.md").exists()]
    names += sorted(p.stem for p in results.glob("*.md") if p.stem not in ORDER)
    for name in names:
        text = (results / f"{name}.md").read_text(encoding="utf-8").strip()
        # demote every heading one level, so each results file is a section of this page
        lines = ["#" + ln if ln.startswith("#") else ln for ln in text.splitlines()]
        parts.append("\n".join(lines) + "\n")
    print("\n".join(parts))


if __name__ == "__main__":
    main()

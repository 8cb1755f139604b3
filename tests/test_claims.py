import csv
import importlib.util
from pathlib import Path

import pytest
from occface.claims import (
    HOLDS,
    NOISE,
    NOT_HOLDS,
    NOT_MEASURED,
    Claim,
    Estimate,
    claim_cells,
    mean_estimate,
    read_claims,
    write_claims,
)
from occface.results import COLUMNS, Cell, Results

ROOT = Path(__file__).resolve().parents[1]


def est(name, value, lo, hi):
    return Estimate(name, value, lo, hi)


def test_lower_is_better_claim_holds_only_when_intervals_separate_in_the_claimed_order():
    assert Claim("a < b", est("a", 5, 4, 6), est("b", 9, 8, 10)).status == HOLDS
    assert Claim("a < b", est("a", 9, 8, 10), est("b", 5, 4, 6)).status == NOT_HOLDS
    # point values in the claimed order, but the intervals overlap: noise, not a win
    assert Claim("a < b", est("a", 5, 3, 8.5), est("b", 9, 8, 10)).status == NOISE
    # touching intervals overlap too
    assert Claim("a < b", est("a", 5, 4, 8), est("b", 9, 8, 10)).status == NOISE


def test_higher_is_better_claim_reverses_the_order():
    hi, lo = est("FROM", 90, 88, 92), est("Baseline", 80, 78, 82)
    assert Claim("FROM > Baseline", hi, lo, better="higher").status == HOLDS
    assert Claim("Baseline > FROM", lo, hi, better="higher").status == NOT_HOLDS
    assert Claim("FROM > Baseline", hi, lo, better="higher").difference == pytest.approx(10)


def test_reason_explains_every_claim_that_does_not_hold():
    holds = Claim("a < b", est("a", 5, 4, 6), est("b", 9, 8, 10))
    reversed_ = Claim("a < b", est("a", 9, 8, 10), est("b", 5, 4, 6))
    noise = Claim("a < b", est("a", 5, 3, 8.5), est("b", 9, 8, 10))
    assert holds.reason() == ""
    assert "opposite order" in reversed_.reason() and "b 5.0 [4.0, 6.0]" in reversed_.reason()
    assert "overlap" in noise.reason()


def test_missing_side_is_not_measured_and_missing_interval_is_refused():
    assert Claim("a < b", Estimate("a", None), est("b", 9, 8, 10)).status == NOT_MEASURED
    with pytest.raises(ValueError, match="no interval"):
        Claim("a < b", Estimate("a", 5.0), est("b", 9, 8, 10))
    with pytest.raises(ValueError, match="better"):
        Claim("a < b", est("a", 5, 4, 6), est("b", 9, 8, 10), better="smaller")


def test_mean_estimate_averages_values_and_bounds_and_skips_missing_rows():
    m = mean_estimate("RLA", [est("x", 10, 8, 12), est("y", 20, 17, 24), Estimate("z", None)])
    assert (m.value, m.ci_low, m.ci_high) == (15, 12.5, 18)
    assert mean_estimate("RLA", [Estimate("z", None)]).value is None


def test_estimate_from_cell_keeps_interval_and_paper():
    e = Estimate.from_cell(Cell("Upper face / Sunglasses", "RLA", 12.0, 10.7, "%", 10.0, 14.0))
    assert (e.name, e.value, e.ci_low, e.ci_high, e.paper) == ("RLA", 12.0, 10.0, 14.0, 10.7)


def test_write_claims_keeps_the_tidy_schema_and_reads_back(tmp_path):
    res = Results("rla", profile="quick", dataset="test", root=tmp_path)
    claims = [Claim("a < b", est("a", 5, 4, 6), est("b", 9, 8, 10)),
              Claim("b < a", est("b", 9, 8, 10), est("a", 5, 4, 6)),
              Claim("c < a", est("c", 5.5, 3, 7), est("a", 5, 4, 6)),
              Claim("d < a", Estimate("d", None), est("a", 5, 4, 6))]
    path = write_claims(res, claims)
    rows = list(csv.DictReader(open(path)))
    assert list(rows[0]) == COLUMNS
    assert [r["ours"] for r in rows if r["column"] == "status"] == ["1.0000", "-1.0000", "0.0000", ""]
    assert [r.status for r in read_claims(path)] == [HOLDS, NOT_HOLDS, NOISE, NOT_MEASURED]
    md = (tmp_path / "quick/rla/claims.md").read_text()
    assert "| b < a | b 9.0 [8.0, 10.0] | a 5.0 [4.0, 6.0] | **does not hold** | The opposite order" in md
    with pytest.raises(ValueError, match="unique"):
        write_claims(res, claims[:1] * 2)


def test_claim_cells_carry_paper_numbers():
    c = Claim("a < b", Estimate("a", 5, 4, 6, paper=3.0), Estimate("b", 9, 8, 10, paper=7.0))
    cells = claim_cells([c])
    assert [x.paper for x in cells] == [3.0, 7.0, None]


def _summary_module():
    spec = importlib.util.spec_from_file_location("claims_summary", ROOT / "scripts" / "claims_summary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _two_claims(root: Path) -> None:
    res = Results("rla", profile="quick", dataset="test", root=root)
    write_claims(res, [Claim("RLA < occluded", est("RLA", 5, 4, 6), est("occluded", 9, 8, 10)),
                       Claim("IP-RLA < RLA", est("IP-RLA", 5.5, 4, 7), est("RLA", 5, 4, 6))])


def test_claims_summary_puts_the_counts_in_the_readme_and_every_claim_in_the_results_index(tmp_path):
    summary = _summary_module()
    _two_claims(tmp_path / "results")
    readme, index = tmp_path / "README.md", tmp_path / "results" / "README.md"
    readme.write_text(f"intro\n{summary.START}\nold text\n{summary.END}\noutro\n")
    index.write_text("# Results index\n\nintro\n\n## Profile `quick`\n\n| table |\n")
    args = ["--profile", "quick", "--results", str(tmp_path / "results"), "--readme", str(readme)]
    assert summary.main(args + ["--check"]) == 1
    assert summary.main(args) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old text" not in text
    assert "Of the 2 ordering claims" in text and "1 hold, 1 are within noise, 0 do not hold" in text
    assert "RLA < occluded" not in text  # the claims themselves live in the index
    listing = index.read_text()
    assert listing.index(summary.START) < listing.index("## Profile `quick`")  # before the tables
    assert "holds: RLA < occluded" in listing and "within noise: IP-RLA < RLA" in listing
    assert "[quick/rla/claims.md](quick/rla/claims.md)" in listing
    assert summary.main(args + ["--check"]) == 0


def test_regenerating_the_results_index_keeps_the_claims_block(tmp_path, monkeypatch):
    from occface import runner

    monkeypatch.setenv("OCCFACE_RESULTS", str(tmp_path))
    block = "<!-- claims:start -->\n## Claims\n\nRLA: holds.\n<!-- claims:end -->"
    (tmp_path / "README.md").write_text(f"# Results index\n\nstale intro\n\n{block}\n\n## Profile `quick`\n")
    text = runner.write_index().read_text()
    assert text.startswith("# Results index") and block in text and "stale intro" not in text


def test_claims_summary_refuses_a_readme_without_markers(tmp_path):
    summary = _summary_module()
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit, match="claims:start"):
        summary.main(["--results", str(tmp_path), "--readme", str(readme)])


def test_claims_on_unitless_values_print_three_decimals(tmp_path):
    res = Results("id_gan", profile="quick", dataset="test", root=tmp_path)
    write_claims(res, [Claim("a > b (SSIM)", est("a", 0.912, 0.905, 0.919), est("b", 0.931, 0.925, 0.937),
                             better="higher", unit="")])
    md = (tmp_path / "quick/id_gan/claims.md").read_text()
    assert "a 0.912 [0.905, 0.919]" in md and "b 0.931 [0.925, 0.937] lies wholly above" in md

"""End-to-end: the time- and width-scale figures and the scorecard's verdicts in the
preview run of `figures` (the session's `workdir` fixture)."""

import numpy as np
import pandas as pd
import pytest
from workflow_runs import planned_jobs, snakemake

pytestmark = pytest.mark.workflow


def test_preview_renders_horizon_and_width_figures(workdir):
    out = workdir / "results" / "preview"
    for name in ("fig_horizon", "fig_width"):
        for ext in ("pdf", "png"):
            assert (out / "figures" / f"{name}.{ext}").stat().st_size > 10_000


def test_preview_horizon_tables(workdir):
    out = workdir / "results" / "preview" / "scales"
    horizons = pd.read_parquet(out / "horizons.parquet")
    # preview: erf, relu x d in 8, 16, 32 x lr 1 x seed 0; train and test x two thresholds
    assert len(horizons) == 2 * 3 * 2 * 2
    assert set(horizons["n"]) == {48, 112, 256} and (horizons["n"] == horizons["m"]).all()  # 4 d^1.2, even
    assert (horizons["t_lin"] <= horizons["t_lin_grid"]).all() and (horizons["t_lin"] > 0).all()
    reached = horizons[horizons["reached"]]
    assert (reached["horizon_lower"] < reached["horizon"]).all()
    assert (horizons["last_step"] == np.ceil(8 * horizons["d"] * np.log(horizons["d"]))).all()  # window 8
    fits = pd.read_parquet(out / "horizon_fits.parquet")
    assert set(fits.query("quantity == 't_lin'")["activation"]) == {"erf", "relu"}
    curves = pd.read_parquet(out / "horizon_curves.parquet")
    assert set(curves["split"]) == {"train", "test"} and "relative_mse" in set(curves["metric"])
    log = (workdir / "results" / "preview" / "logs" / "horizon_run" / "relu_d16_lr1_seed0.log").read_text()
    assert "n = m = 112" in log and "T_lin" in log


def test_preview_width_tables(workdir):
    out = workdir / "results" / "preview" / "scales"
    table = pd.read_parquet(out / "width.parquet")
    rel = table.query("metric == 'relative_mse'")
    assert len(rel) == 2 * 3 * 2  # d in 8, 32 x widths 16, 128, 1024 x steps 1, 10
    assert set(rel["width"]) == {16, 128, 1024} and set(rel["step"]) == {1, 10}
    # The finite-width floor: at d = 32 the relative discrepancy at step 1 falls with m.
    at32 = rel.query("d == 32 and step == 1").sort_values("width")["value"].to_numpy()
    assert np.all(np.diff(at32) < 0), at32
    fits = pd.read_parquet(out / "width_fits.parquet")
    assert set(fits["d"]) == {8, 32} and (fits.query("d == 32")["slope"] < 0).all()


def test_scorecard_has_verdicts_for_every_claim(workdir):
    table = pd.read_parquet(workdir / "results" / "preview" / "report" / "scorecard.parquet")
    assert list(table.columns) == ["figure", "claim", "paper", "criterion", "measured", "verdict", "scale", "note"]
    # The preview differs from the paper in every group: each row names what it reduced, and a
    # claim that does not hold says first that it was measured at a reduced scale.
    assert table["scale"].str.startswith("reduced: ").all()
    fails = table.query("verdict == 'does not hold'")
    assert fails["note"].str.startswith("Measured at a reduced scale (see scale)").all()
    assert set(table["verdict"]) <= {"holds", "does not hold", "not run"}
    assert {
        "Figure 1a",
        "Figure 1c",
        "Figure 2",
        "Regime grid",
        "Figures 3/4c",
        "Figure 5",
        "Horizon (Cor. 3.3)",
        "Horizon (Thm 3.2/D.1)",
        "Width",
    } <= set(table["figure"])
    assert (table["criterion"].str.len() > 10).all()
    # every claim whose tables are part of the run gets a verdict (only a fit may be missing)
    assert set(table.query("verdict == 'not run'")["figure"]) <= {"Horizon (Thm 3.2/D.1)", "Width"}
    html = (workdir / "results" / "preview" / "report" / "scorecard.html").read_text(encoding="utf-8")
    assert "does not hold" in html or "holds" in html


def test_scorecard_skip_leaves_out_a_group(workdir):
    """scorecard.skip: the skipped group's claims read "not run" and its jobs are not needed."""
    skip = "scorecard={skip: [deep, horizon]}"
    fresh = snakemake(workdir, "scorecard", "--dry-run", "--config", "results_dir=results/skip", skip)
    jobs = planned_jobs(fresh)
    assert "train_deep" not in jobs and "horizon_run" not in jobs and jobs["width_run"] == 6
    try:
        snakemake(workdir, "scorecard", "--config", skip)
        table = pd.read_parquet(workdir / "results" / "preview" / "report" / "scorecard.parquet")
        skipped = table[table["figure"].isin(["Figures 3/4c", "Horizon (Cor. 3.3)", "Horizon (Thm 3.2/D.1)"])]
        assert len(skipped) and (skipped["verdict"] == "not run").all()
        assert (table.query("figure == 'Figure 2'")["verdict"] != "not run").all()
    finally:
        snakemake(workdir, "scorecard")  # the run's own scorecard again, for other tests

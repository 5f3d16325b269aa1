import numpy as np
import pandas as pd

from earlylin import scorecard


def test_fig5_rows_report_the_fitted_slopes():
    fits = pd.DataFrame([
        dict(activation="erf", kernel="theta1", identity_term=False, norm="spectral", slope=-1.3, stderr=0.02, d_min=20, d_max=320),
        dict(activation="erf", kernel="theta1", identity_term=False, norm="frobenius", slope=-0.75, stderr=0.04, d_min=20, d_max=320),
        dict(activation="erf", kernel="theta1", identity_term=True, norm="spectral", slope=-9.0, stderr=0.0, d_min=20, d_max=320),
    ])
    rows = scorecard.fig5_rows(fits, "erf")
    assert [r["paper"] for r in rows] == ["slope -1.263", "slope -0.718"]
    assert rows[0]["measured"] == "slope -1.300 +- 0.020 over d = 20..320"
    assert "-9" not in " ".join(r["measured"] for r in rows)  # the identity-term fit is not the paper's


def test_fig1_and_fig2_rows_from_tables():
    steps = np.array([0, 1, 10, 100, 1000, 3000])
    losses = pd.concat([
        pd.DataFrame(dict(model="network", split="test", step=steps, value=[1, .8, .5, .3, .21, .1])),
        pd.DataFrame(dict(model="linear", split="test", step=steps, value=[1, .8, .51, .3, .2, .2])),
    ])
    disc = pd.concat([pd.DataFrame(dict(d=d, metric="output_mse", step=steps, value=v * np.ones(6)))
                      for d, v in ((10, 1e-2), (100, 1e-3))])
    first, second = scorecard.fig1_rows(losses, disc)
    assert "0.0100" in first["measured"]  # the largest gap up to step 1000 (0.21 vs 0.2, 0.5 vs 0.51)
    assert "d=10: 1.00e-02" in second["measured"] and "slope -1.00" in second["measured"]
    fig2 = pd.concat([pd.DataFrame(dict(model=m, metric="output_mse", step=steps, value=v * np.ones(6)))
                      for m, v in (("linear", 1e-3), ("naive", 4e-3))])
    (row,) = scorecard.fig2_rows(fig2)
    assert "median 4.00" in row["measured"]
    assert "<table" in scorecard.scorecard_html(pd.DataFrame([row]), "t")

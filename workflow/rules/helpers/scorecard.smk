# Helpers of the scorecard rule (scorecard.smk).

from earlylin.deep.jobs import figure_datasets

from earlylin.scorecard.criteria import GROUPS
from earlylin.scorecard.scale import dataset_scales


def scorecard_inputs():
    """The tables of every claim group of the scorecard (``GROUPS``), less those in
    scorecard.skip (their claims read "not run" and their tables are not built for it)."""
    models = model_figure_inputs()
    data = data_figure_inputs()
    groups = {
        "fig1": dict(
            fig1_network=fig1_main_files(rules.train_two_layer.output.losses),
            fig1_linear=fig1_main_files(rules.train_two_layer.output.linear_losses),
            fig1_discrepancy=fig1_sweep_files(rules.compare_fig1.output.discrepancy),
        ),
        "fig2": dict(fig2_discrepancy=fig2_files(rules.compare_fig2.output.discrepancy)),
        "regimes": dict(regime_horizons=rules.regime_horizons.output.horizons),
        "deep": dict(deep_discrepancy=deep_figure_inputs(figure_datasets(DEEP))["discrepancy"]),
        "models": dict(model_fits=models["kernel_fit"], model_discrepancy=models["discrepancy"]),
        "data": dict(data_discrepancy=data["discrepancy"], data_signs=data["signs"], data_outputs=data["outputs"]),
        "fig5": dict(fits=rules.fit_ntk_slopes.output.fits, fig5_seed_fits=rules.fit_ntk_slopes.output.seed_fits),
        "horizon": dict(
            scale_horizons=rules.horizon_summary.output.horizons,
            scale_horizon_fits=rules.horizon_summary.output.fits,
        ),
        "width": dict(scale_width=rules.width_summary.output.table, scale_width_fits=rules.width_summary.output.fits),
    }
    assert tuple(groups) == GROUPS, "scorecard_inputs must name the tables of every claim group"
    skip = set(config["scorecard"]["skip"])
    return {name: files for group, inputs in groups.items() if group not in skip for name, files in inputs.items()}

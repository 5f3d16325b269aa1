# Helpers of scorecard.smk: the tables of every claim group.

from earlylin.experiments.deep import figure_datasets
from earlylin.experiments.run_size import dataset_sizes
from earlylin.scorecard.criteria import GROUPS


def scorecard_inputs():
    """The tables of every claim group of the scorecard (``GROUPS``), less those in
    scorecard.skip (their claims read "not run" and their tables are not built for it)."""
    networks = any_network_figure_inputs()
    data = any_data_figure_inputs()
    classes = any_classes_figure_inputs()
    groups = {
        "fig1": dict(
            fig1_network=fig1_main_files(rules.train_two_layer.output.losses),
            fig1_linear=fig1_main_files(rules.train_two_layer.output.linear_losses),
            fig1_discrepancy=fig1_sweep_files(rules.compare_fig1.output.discrepancy),
        ),
        "fig2": dict(fig2_discrepancy=fig2_files(rules.compare_fig2.output.discrepancy)),
        "regimes": dict(regime_horizons=rules.regime_horizons.output.horizons),
        "deep": dict(deep_discrepancy=deep_figure_inputs(figure_datasets(DEEP))["discrepancy"]),
        "any_network": dict(any_network_fits=networks["kernel_fit"], any_network_discrepancy=networks["discrepancy"]),
        "any_data": dict(
            any_data_discrepancy=data["discrepancy"], any_data_signs=data["signs"], any_data_outputs=data["outputs"]
        ),
        "any_classes": dict(
            any_classes_discrepancy=classes["discrepancy"],
            any_classes_fits=classes["kernel_fit"],
            any_classes_classes=classes["classes"],
        ),
        "fig5": dict(fits=rules.fit_ntk_slopes.output.fits, fig5_seed_fits=rules.fit_ntk_slopes.output.seed_fits),
        "fig5_models": dict(
            fig5_models_norms=rules.fit_kernel_fit_slopes.output.norms,
            fig5_models_fits=rules.fit_kernel_fit_slopes.output.fits,
        ),
        "horizon": dict(horizons=rules.horizon_summary.output.horizons, horizon_fits=rules.horizon_summary.output.fits),
        "width": dict(width=rules.width_summary.output.table, width_fits=rules.width_summary.output.fits),
    }
    assert tuple(groups) == GROUPS, "scorecard_inputs must name the tables of every claim group"
    skip = set(config["scorecard"]["skip"])
    return {name: files for group, inputs in groups.items() if group not in skip for name, files in inputs.items()}

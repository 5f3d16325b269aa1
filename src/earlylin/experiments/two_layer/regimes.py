"""The regimes of the two-layer theory: which layers gradient descent trains, the theorem
that covers it, and the linear model it names (Sections 3.1-3.3, Appendix D).

One record per regime, shared by the experiments, the kernels, the figures and the tests.
This module is light (no torch), so the workflow can use it when it parses the Snakefile.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Regime:
    """Which layers GD trains, and the linear model the matching theorem names.

    ``kernel``: the NTK block whose linear approximation the theorem uses (Theta1, Theta2,
    Theta; eq. 17 and 20); ``title``: how a figure names the regime.
    """

    name: str
    layers: str
    theorem: str
    features: str
    kernel: str
    title: str
    trains_first: bool
    trains_second: bool

    def learning_rates(self, lr: float) -> tuple[float, float]:
        """(eta1, eta2): ``lr`` for each trained layer, 0 for a frozen one."""
        return (lr if self.trains_first else 0.0, lr if self.trains_second else 0.0)


REGIMES: dict[str, Regime] = {
    regime.name: regime
    for regime in (
        Regime(
            "first",
            "first layer only (eta2 = 0)",
            "Theorem 3.2",
            "psi1, eq. 5",
            "theta1",
            "first layer only: ψ1 (Thm 3.2)",
            True,
            False,
        ),
        Regime(
            "second",
            "second layer only (eta1 = 0)",
            "Theorem 3.5",
            "psi2, eq. 9",
            "theta2",
            "second layer only: ψ2 (Thm 3.5)",
            False,
            True,
        ),
        Regime(
            "both",
            "both layers (eta1 = eta2)",
            "Theorem D.1",
            "psi, eq. 11",
            "theta",
            "both layers: ψ (Thm D.1)",
            True,
            True,
        ),
    )
}

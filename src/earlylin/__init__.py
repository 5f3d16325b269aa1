"""early-linear: the early-time linear dynamics of neural networks (Hu et al., NeurIPS 2020)."""

__version__ = "0.1.0"

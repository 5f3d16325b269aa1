"""The workflow's figures, drawn with seaborn from its parquet tables only (nothing here
imports torch or a training module).

Modules: ``style`` (theme, saving, means over seeds with their bands, test-output panels),
``two_layer`` (Figures 1, 2 and the regime grid), ``deep`` (Figures 3, 4), ``kernels``
(Figure 5 and its extension), ``scales`` (the horizon and width figures).
"""

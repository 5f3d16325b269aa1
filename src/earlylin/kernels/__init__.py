"""Kernels: the empirical NTK of any network and its movement (``empirical``), the
infinite-width NTK recursion and the linear model's coefficients (``recursion``), Section
4.1's simple kernel and its feature map (``simple_kernel``), that kernel fitted to an
empirical NTK (``fit``), and the exact infinite-width kernels of the FC net and the CNN
(``exact``)."""

"""Any PyTorch network under the paper's test (Section 4.1 for a model the user brings).

* ``registry``: a network named by a built-in name, an import path ``package.module:factory``
  or a file ``path/to/file.py:factory``, built from a seed and checked (one output per input,
  outputs independent of the rest of the batch) before any training.
* ``builtin``: the paper's FC net and CNN (NTK parameterisation), a small residual CNN and
  the FC net in the standard parameterisation, as factories of the registry.
* ``ntk``: the empirical NTK at initialisation by ``torch.func`` (per-example gradients,
  chunked so that memory stays bounded) and the kernel movement of Fort et al. (2020).
* ``kernel_fit``: Section 4.1's simple kernel, constant + linear x.x'/d + norm terms, fitted to
  the empirical NTK's off-diagonal entries averaged over initialisations, with its Monte-Carlo
  error, its residual and the diagonal gap; the fitted coefficients define the linear model.
* ``linearised``: the network linearised in its parameters, f(x; theta_0) + J(x; theta_0)
  (theta - theta_0) (Lee et al. 2019), trained by SGD with Jacobian-vector products only.
* ``exact_kernel``: the FC net's infinite-width NTK on normalised inputs and function-space SGD
  with it (the exact-kernel model).
* ``jobs``: the jobs of a ``models`` config section and its checks (light: no torch).
* ``training``: one network trained beside its linearised network, its fitted linear model and
  (FC) its exact-kernel model on the same minibatches and the same loss and momentum
  (``earlylin.losses``), with the kernel movement; its tables.
* ``data_study``: the jobs of a ``fig_data`` config section (a data set x loss x momentum, real
  images or their Gaussian clone) and its checks (light: no torch).
* ``study``: fig_data's comparisons across jobs (clone-trained against real-trained models).
"""

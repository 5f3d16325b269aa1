"""The one training engine: a network and the models meant to predict it (its linear model,
its linearised network, its infinite-width kernel model), trained by SGD on the same seeded
minibatches with any loss and heavy-ball momentum; checkpoints and resume, progress, logged
steps, one cost probe and one CPU guard. ``job`` reads a job's dict, ``run`` runs it."""

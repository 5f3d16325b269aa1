"""Networks: the layers of the paper's NTK parameterisation (``layers``), the built-in
networks (``builtin``) and their light catalogue (``catalogue``), any network by name, import
path or file (``registry``), and the front door every network passes once before any
probe, kernel or training (``front_door``)."""

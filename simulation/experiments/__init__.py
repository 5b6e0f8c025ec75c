"""Parameter sweeps: a YAML spec (:mod:`simulation.experiments.spec`) names a base scenario, the values to
vary and how to sample them; the design lists every run with its values and seed."""

from simulation.experiments.spec import (
    Parameter,
    RunSpec,
    SweepSpec,
    SweepSpecError,
    design,
    design_matrix,
    fingerprint,
    load_sweep_spec,
    run_count,
    salib_problem,
)

__all__ = [
    "Parameter",
    "RunSpec",
    "SweepSpec",
    "SweepSpecError",
    "design",
    "design_matrix",
    "fingerprint",
    "load_sweep_spec",
    "run_count",
    "salib_problem",
]

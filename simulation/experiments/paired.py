"""Runs of one scenario under several sets of overrides, on shared replication seeds.

The decomposition and the cost-effectiveness curve both compare configurations of one scenario
(each a list of ``KEY.PATH=VALUE`` overrides) replication by replication: every configuration runs
on the same seeds (common random numbers), so their differences are paired. A run is a pure
function of the raw scenario, its overrides and its seed, so it gives the same result in this
process or on any Dask worker.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from tqdm.auto import tqdm

from simulation.config.scenario import Scenario, apply_override, validate
from simulation.runner import replicate

Task = tuple[tuple[str, ...], int]  # (overrides, seed)


def build_scenario(raw: dict, source: str, overrides: Sequence[str]) -> Scenario:
    """The scenario ``raw`` (a mapping, already holding the user's overrides) with ``overrides``
    applied and validated; ScenarioError names ``source`` and the key."""
    raw = copy.deepcopy(raw)
    for override in overrides:
        apply_override(raw, override)
    return validate(raw, source=source)


def run_configuration(
    raw: dict,
    source: str,
    overrides: Sequence[str],
    seed: int,
    schemes: Sequence[str],
    metrics: Sequence[str],
) -> dict[str, dict]:
    """One configuration at one seed: every scheme on one world; ``{scheme: {metric: value}}``."""
    found = replicate(build_scenario(raw, source, overrides), list(schemes), seed)
    return {scheme: {m: values.get(m) for m in metrics} for scheme, values in found.items()}


def run_tasks(
    raw: dict,
    source: str,
    tasks: Sequence[Task],
    schemes: Sequence[str],
    metrics: Sequence[str],
    client: Any = None,
    progress: bool = False,
    label: str = "runs",
) -> list[dict[str, dict]]:
    """Every task's result, in the tasks' order: in this process (``client`` None) or on a
    ``distributed.Client``, with a progress bar."""
    bar = tqdm(total=len(tasks), desc=label, unit="run", disable=not progress)
    try:
        if client is None:
            out = []
            for overrides, seed in tasks:
                out.append(run_configuration(raw, source, overrides, seed, schemes, metrics))
                bar.update()
            return out
        from distributed import as_completed

        futures = [
            client.submit(run_configuration, raw, source, o, s, list(schemes), list(metrics), pure=False)
            for o, s in tasks
        ]
        for _ in as_completed(futures):
            bar.update()
        return client.gather(futures)
    finally:
        bar.close()

"""The page served by ``run.py app``: the voucher and the tender compared under levers the user
moves (:class:`simulation.app.components.Explorer`)."""

from __future__ import annotations

import solara

from simulation.app.components import Explorer

TITLE = "Training vouchers vs tendered training"
INTRO = (
    "The same synthetic labour market, run under a Kartu Prakerja-style voucher and a BLK-style tender "
    "with common random numbers. Move the levers and press Run: the table shows each scheme's mean and "
    "the paired difference, with 95% confidence intervals over the replications."
)


@solara.component
def Page():
    """The whole page: a title, a line of explanation and the explorer."""
    solara.Title(TITLE)
    with solara.Column(style={"padding": "12px"}):
        solara.HTML(tag="h2", unsafe_innerHTML=TITLE)
        solara.Text(INTRO)
        Explorer()

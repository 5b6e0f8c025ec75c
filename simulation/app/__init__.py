"""The web page (``run.py app``) and the notebook widgets: the two schemes compared under levers
the user moves.

``levers``      the levers (scenario key, label, range) and :func:`run_comparison`, plain Python
``figures``     the page's figures (matplotlib, no pyplot: safe in the server's threads)
``components``  Solara components, usable in the page and in Jupyter alike
``page``        the page served by ``run.py app`` (``Page``)
``serve``       starting the Solara server

This package sits above the command line's layer and imports only the public API; importing it
loads nothing heavy (Solara loads in ``components`` and ``page``).
"""

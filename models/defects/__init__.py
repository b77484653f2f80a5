"""Point-defect models of 2D hosts: the GPAW/xTB labellers, the sparse
defect graph and the MEGNet trained on it, and its export for the app.

Run the scripts from ``models/`` as modules, e.g.
``cd models && /usr/bin/python3 -m defects.train`` (README.md lists them).
"""

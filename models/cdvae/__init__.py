"""The crystal generator (CDVAE): data, model, training, sampling, the
paper's metrics, and its export for the app.

Run the scripts from ``models/`` as modules, e.g.
``cd models && /usr/bin/python3 -m cdvae.evaluate`` (README.md lists them).
"""

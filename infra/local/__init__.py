"""The local stack: `python -m infra.local` runs the whole backend on this machine (see __main__)."""

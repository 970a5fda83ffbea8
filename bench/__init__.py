"""devns benchmark: `python -m bench` (see __main__)."""

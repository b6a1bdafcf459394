"""``python -m qcode`` runs the same click group as the ``qcode`` script."""

from .cli import main

main()

"""``python -m pba_tunnel`` runs the CLI."""

from .cli import main

main()

"""``python -m pipeweaver`` runs the command line."""

from pipeweaver.cli import main

main()

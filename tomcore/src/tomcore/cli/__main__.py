"""`python -m tomcore.cli` runs the `tom` command."""

from tomcore.cli import main

main()

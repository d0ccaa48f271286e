"""`python -m tomcore` runs the `tom` command."""

from tomcore.cli import main

main()

"""`python -m silkgate` runs the CLI."""

from silkgate.cli import main

main()

from silkgate.cli import main

main()

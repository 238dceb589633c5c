from showkeeper.cli import main

main()

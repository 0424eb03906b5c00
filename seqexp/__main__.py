from seqexp.cli import main

main()

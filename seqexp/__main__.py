from seqexp.cli import main

if __name__ == "__main__":  # trials run in spawned processes, which import this module again
    main()

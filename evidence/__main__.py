"""``python -m evidence`` behaves like the ``evidence`` command."""

from evidence.cli.main import main

if __name__ == "__main__":
    main()

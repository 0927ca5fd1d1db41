"""``python -m rnnkit`` is the ``rnnkit`` command."""

from rnnkit.cli.main import main

if __name__ == "__main__":
    main()

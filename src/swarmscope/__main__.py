"""``python -m swarmscope``: the command line, as the ``swarmscope`` script."""

from swarmscope.cli import app

if __name__ == "__main__":
    app(prog_name="swarmscope")

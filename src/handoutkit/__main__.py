"""`python -m handoutkit`: the `handout` command."""

from handoutkit.cli import app

app(prog_name="handout")

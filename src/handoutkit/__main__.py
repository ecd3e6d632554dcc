from handoutkit.cli import app

app(prog_name="handout")

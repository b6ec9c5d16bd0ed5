"""One module per `genjin` command (issue #14). `genjin/cli.py` parses the arguments, then imports only the chosen
command's module (its COMMANDS table) and calls its `main(args, settings)`, which returns the exit code; `settings`
is None for the commands that read none (`check`, `demo`). Each module imports what it needs at the top: `genjin
check` or `genjin settings` never imports the flows or Prefect because their modules do not."""

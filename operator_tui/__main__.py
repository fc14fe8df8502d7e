from operator_tui.cli import entry

entry()

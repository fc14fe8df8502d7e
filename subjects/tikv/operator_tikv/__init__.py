"""TiKV subject for operator-tui: PD client, metrics, logs, invariants, actions (and ``sim``)."""

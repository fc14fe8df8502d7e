"""The operator's core: subject protocol, tickets, monitor, agent, diagnosis. Imports no UI."""

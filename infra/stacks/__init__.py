"""The stacks, one concern each; :mod:`infra.app` wires them in dependency order."""

"""Paper models: one module per paper (from_net: FROM, rla: RLA)."""

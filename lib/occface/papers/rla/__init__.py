"""RLA and IP-RLA (Zhao et al., TIP 2018): model, training schedule, Table I/II builders, Figs. 5-8."""

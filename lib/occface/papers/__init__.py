"""One folder per paper: ``model`` reads like the paper, ``train`` its schedule, ``tables`` / ``figures``
the builders its notebook calls, ``published`` the paper's own numbers."""

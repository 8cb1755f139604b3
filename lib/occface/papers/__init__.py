"""One folder per paper: ``model`` reads like the paper, ``train`` its schedule, ``tables`` / ``figures``
the builders its notebook calls, ``published`` the paper's own numbers, ``registration`` its methods in the
registry. Each folder's ``__init__`` declares its :class:`Paper`; the import line below is the one list of
papers: the results topics, the claims summary, the method registry and the contract tests derive from it
(docs/CONTRACTS.md, "Adding a paper")."""

from __future__ import annotations

from ..registry import Paper
from . import from_, fsg_gan, id_gan, oa_gan, rla  # the one list: a new paper adds its name here

PAPERS: tuple[Paper, ...] = tuple(p.PAPER for p in (rla, fsg_gan, oa_gan, from_, id_gan))

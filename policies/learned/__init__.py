"""The learned interaction model: inputs (:mod:`.features`), network (:mod:`.net`,
torch), the duplex component (:mod:`.interaction`), the shipped checkpoint
(:mod:`.assets`), the data engine (:mod:`.collect`, :mod:`.dataset`) and training
(:mod:`.train`). Importing this package loads no torch."""

from __future__ import annotations

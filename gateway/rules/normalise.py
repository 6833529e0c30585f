"""Country names compared as the SNE announced: case- and accent-insensitively, and deaf to
spaces, hyphens, apostrophes (typographic or not) and punctuation.

    >>> normalise("  Côte d\N{RIGHT SINGLE QUOTATION MARK}Ivoire ")
    'cote d ivoire'
    >>> normalise("COTE-D'IVOIRE")
    'cote d ivoire'
"""

from __future__ import annotations

import re
import unicodedata

#: Letters that Unicode does not decompose into a base letter and a mark.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O"})
#: Anything but a letter or a digit (of any script) separates words.
_SEPARATORS = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """`text` in lower case, without accents, its words separated by one space."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", bare.casefold()).strip()

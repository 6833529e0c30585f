"""Which lexical values each side accepts, decided with finite automata (automata-lib).

A value's lexical constraints are its patterns (one alternative of each derivation step must
match), its enumeration and its length facets. Each side's constraints become one
deterministic automaton; automata-lib (a maintained library of automata: subset construction,
Hopcroft minimisation, products, emptiness, the words of a given length) then says whether
NEW accepts fewer values than OLD, more, the same, or each some the other refuses, with a
witness: a value one side accepts and the other refuses, spelt with the patterns' own
characters.

Unicode classes are large (`\\p{L}` is some 650 ranges) and automata-lib reads one symbol per
character. So the alphabet is compressed first: the characters that no class of either side
tells apart form one symbol (an *atom*), the automata run on atoms, and a witness is spelt back
with one readable character of each atom. A witness is kept only if the real types agree
(their base type's lexical space and whitespace handling are not in the automata): OLD's type
accepts it and NEW's refuses it, or the reverse.

automata-lib is imported when a comparison runs (it brings networkx, 0.5 s to import): a diff
whose values keep their patterns never pays for it.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import reduce
from typing import TYPE_CHECKING

from elementpath.regex import UnicodeSubset

from gateway.diff.xsd_regex import (
    MAX_REPEAT,
    XML_CHARS,
    Chars,
    Choice,
    Node,
    Repeat,
    Sequence,
    Untranslatable,
    parse,
)

if TYPE_CHECKING:
    from automata.fa.dfa import DFA
    from automata.fa.nfa import NFA

#: Candidates tried for a witness before the comparison is left undecided.
WITNESS_CANDIDATES = 200
#: A group (not a character class) repeated more than this is not expanded into copies.
MAX_GROUP_REPEAT = 100
#: Characters preferred in witnesses, in this order, when an atom holds them.
_READABLE = string.digits + string.ascii_uppercase + string.ascii_lowercase + "-_.:/@ "
#: Atoms are numbered into the Private Use Area: automata-lib's symbols are one-character
#: strings, and these are never shown (a witness is spelt with real characters).
_FIRST_SYMBOL = 0xE000

EQUAL = "equal"
NARROWED = "narrowed"  # NEW accepts fewer values
WIDENED = "widened"  # NEW accepts more values
INCOMPARABLE = "incomparable"  # each accepts values the other refuses
UNDECIDED = "undecided"


@dataclass(frozen=True, slots=True)
class Lexical:
    """The lexical constraints of one side: `patterns` (one set of alternatives per derivation
    step), `enumeration` (None: any value), `lengths` (minimum, maximum; None: no bound)."""

    patterns: frozenset[frozenset[str]]
    enumeration: frozenset[str] | None
    lengths: tuple[int, int | None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How NEW's accepted values relate to OLD's. `dropped` is a value OLD accepts and NEW
    refuses, `gained` one NEW accepts and OLD refuses (None where there is none, or where the
    relation is undecided); `reason` names what could not be decided."""

    relation: str
    dropped: str | None = None
    gained: str | None = None
    reason: str = ""


class _Alphabet:
    """The atoms of a set of character classes: the classes of characters none of them tells
    apart, each an automaton symbol, with one readable character to spell it."""

    def __init__(self, subsets: Iterable[UnicodeSubset]) -> None:
        classes = [_ranges(subset) for subset in subsets]
        universe = _ranges(XML_CHARS)
        bounds = sorted(
            {edge for ranges in [universe, *classes] for pair in ranges for edge in pair}
        )
        atoms: dict[tuple[bool, ...], list[tuple[int, int]]] = {}
        for low, high in itertools.pairwise(bounds):
            if not _contains(universe, low):
                continue
            signature = tuple(_contains(ranges, low) for ranges in classes)
            atoms.setdefault(signature, []).append((low, high))
        self._symbols: dict[tuple[bool, ...], str] = {}
        self._spelling: dict[str, str] = {}
        for index, (signature, ranges) in enumerate(atoms.items()):
            symbol = chr(_FIRST_SYMBOL + index)
            self._symbols[signature] = symbol
            self._spelling[symbol] = _readable(ranges)
        self._classes = classes
        self._signatures = list(atoms)

    def symbols(self, subset: UnicodeSubset) -> frozenset[str]:
        """The atoms that make up `subset` (one of the classes the alphabet was built from)."""
        position = self._classes.index(_ranges(subset))
        return frozenset(
            self._symbols[signature] for signature in self._signatures if signature[position]
        )

    @property
    def every(self) -> frozenset[str]:
        return frozenset(self._symbols.values())

    def word(self, text: str) -> str:
        """`text` in atoms."""
        return "".join(
            self._symbols[tuple(_contains(ranges, ord(char)) for ranges in self._classes)]
            for char in text
        )

    def readability(self) -> dict[str, int]:
        """Each symbol's rank: symbols spelt with preferred characters first."""

        def rank(symbol: str) -> tuple[int, str]:
            char = self._spelling[symbol]
            return (_READABLE.index(char) if char in _READABLE else len(_READABLE), char)

        ranked = sorted(self._spelling, key=rank)
        return {symbol: index for index, symbol in enumerate(ranked)}

    def spell(self, symbols: str) -> str:
        return "".join(self._spelling[symbol] for symbol in symbols)


def _ranges(subset: UnicodeSubset) -> list[tuple[int, int]]:
    """`subset` as sorted half-open ranges."""
    return [(p, p + 1) if isinstance(p, int) else (p[0], p[1]) for p in subset.codepoints]


def _contains(ranges: list[tuple[int, int]], point: int) -> bool:
    index = bisect.bisect_right(ranges, (point, float("inf"))) - 1
    return index >= 0 and ranges[index][0] <= point < ranges[index][1]


def _readable(ranges: list[tuple[int, int]]) -> str:
    for char in _READABLE:
        if _contains(ranges, ord(char)):
            return char
    for low, high in ranges:
        for point in range(low, min(high, low + 256)):
            if chr(point).isprintable():
                return chr(point)
    return chr(ranges[0][0])


def _leaves(node: Node) -> Iterator[UnicodeSubset]:
    if isinstance(node, Chars):
        yield node.subset
    elif isinstance(node, Repeat):
        yield from _leaves(node.item)
    else:
        items = node.items if isinstance(node, Sequence) else node.branches
        for item in items:
            yield from _leaves(item)


def _chain(alphabet: _Alphabet, symbols: frozenset[str], low: int, high: int | None) -> NFA:
    """One of `symbols`, `low` to `high` times (None: unbounded), as a chain of states."""
    from automata.fa.nfa import NFA

    top = low if high is None else high
    transitions: dict[int, dict[str, set[int]]] = {
        state: {symbol: {state + 1} for symbol in symbols} if state < top else {}
        for state in range(top + 1)
    }
    if high is None:
        transitions[top] = {symbol: {top} for symbol in symbols}
    return NFA(
        states=set(range(top + 1)),
        input_symbols=alphabet.every,
        transitions=transitions,
        initial_state=0,
        final_states=set(range(low, top + 1)),
    )


def _nfa(node: Node, alphabet: _Alphabet) -> NFA:
    if isinstance(node, Chars):
        return _chain(alphabet, alphabet.symbols(node.subset), 1, 1)
    if isinstance(node, Sequence):
        parts = [_nfa(item, alphabet) for item in node.items]
        return reduce(lambda a, b: a.concatenate(b), parts, _chain(alphabet, frozenset(), 0, 0))
    if isinstance(node, Choice):
        return reduce(lambda a, b: a.union(b), (_nfa(branch, alphabet) for branch in node.branches))
    if isinstance(node.item, Chars):
        return _chain(alphabet, alphabet.symbols(node.item.subset), node.minimum, node.maximum)
    if max(node.minimum, node.maximum or 0) > MAX_GROUP_REPEAT:
        shown = f"{node.minimum},{'' if node.maximum is None else node.maximum}"
        raise Untranslatable(f"the repetition {{{shown}}} of a group (over {MAX_GROUP_REPEAT})")
    item = _nfa(node.item, alphabet)
    result = _chain(alphabet, frozenset(), 0, 0)
    for _ in range(node.minimum):
        result = result.concatenate(item)
    if node.maximum is None:
        return result.concatenate(item.kleene_star())
    for _ in range(node.maximum - node.minimum):
        result = result.concatenate(item.option())
    return result


@dataclass(frozen=True, slots=True)
class _Side:
    """One side's constraints as syntax trees: one tree per derivation step (its alternatives
    joined)."""

    steps: tuple[Node, ...]
    enumeration: frozenset[str] | None
    lengths: tuple[int, int | None]


def _side(lexical: Lexical) -> _Side:
    steps = []
    for alternatives in sorted(lexical.patterns, key=sorted):
        nodes = tuple(parse(pattern) for pattern in sorted(alternatives))
        steps.append(nodes[0] if len(nodes) == 1 else Choice(nodes))
    minimum, maximum = lexical.lengths
    if max(minimum, maximum or 0) > MAX_REPEAT:
        raise Untranslatable(f"a length facet over {MAX_REPEAT} characters")
    return _Side(tuple(steps), lexical.enumeration, lexical.lengths)


def _automaton(side: _Side, alphabet: _Alphabet) -> DFA:
    from automata.fa.dfa import DFA

    minimum, maximum = side.lengths
    automaton = DFA.of_length(alphabet.every, min_length=minimum, max_length=maximum)
    for step in side.steps:
        automaton = automaton & DFA.from_nfa(_nfa(step, alphabet), minify=True)
    if side.enumeration is not None:
        words = {alphabet.word(value) for value in side.enumeration}
        automaton = automaton & DFA.from_finite_language(alphabet.every, words)
    return automaton


def _words(automaton: DFA, alphabet: _Alphabet) -> Iterator[str]:
    """The words `automaton` accepts, shortest first, the most readable first among words of
    one length. automata-lib's own enumeration lists every word of each length, too many for
    a pattern like `[0-9]{18}`: this search only follows states from which a final state is
    reachable, nearest first."""
    transitions = automaton.transitions
    distance = {state: 0 for state in automaton.final_states}
    frontier = list(distance)
    while frontier:  # breadth first from the final states, backwards
        reached = []
        for state, moves in transitions.items():
            if state not in distance and any(target in frontier for target in moves.values()):
                distance[state] = distance[next(t for t in moves.values() if t in frontier)] + 1
                reached.append(state)
        frontier = reached
    if automaton.initial_state not in distance:
        return
    order = alphabet.readability()
    tie = itertools.count()
    # Among prefixes that promise words of the same length, the longest first: the search then
    # goes down to a word rather than across every prefix of one length.
    queue = [(distance[automaton.initial_state], 0, next(tie), "", automaton.initial_state)]
    while queue:
        _, _, _, word, state = heapq.heappop(queue)
        if state in automaton.final_states:
            yield word
        for symbol in sorted(transitions[state], key=order.__getitem__):
            target = transitions[state][symbol]
            if target in distance:
                estimate = len(word) + 1 + distance[target]
                heapq.heappush(queue, (estimate, -len(word) - 1, next(tie), word + symbol, target))


def _witness(difference: DFA, alphabet: _Alphabet, keeps: Callable[[str], bool]) -> str | None:
    """The first (shortest) value of `difference` that `keeps` confirms."""
    for symbols in itertools.islice(_words(difference, alphabet), WITNESS_CANDIDATES):
        value = alphabet.spell(symbols)
        if keeps(value):
            return value
    return None


def compare(
    old: Lexical,
    new: Lexical,
    old_accepts: Callable[[str], bool],
    new_accepts: Callable[[str], bool],
) -> Outcome:
    """How the values NEW's constraints accept relate to OLD's; `old_accepts` and
    `new_accepts` are the real types' validators, which confirm witnesses."""
    if old.lengths == new.lengths and max(old.lengths[0], old.lengths[1] or 0) > MAX_REPEAT:
        # The same long length bounds on both sides change nothing in the comparison; the
        # witnesses still meet them (the real types confirm them).
        old, new = replace(old, lengths=(0, None)), replace(new, lengths=(0, None))
    try:
        old_side, new_side = _side(old), _side(new)
        leaves = [leaf for node in (*old_side.steps, *new_side.steps) for leaf in _leaves(node)]
        # Each character of an enumerated value gets an atom of its own, so that a witness
        # taken from the enumeration is spelt as the value itself.
        values = (old.enumeration or frozenset()) | (new.enumeration or frozenset())
        characters = [UnicodeSubset([ord(char)]) for char in sorted(set("".join(values)))]
        alphabet = _Alphabet([*leaves, *characters])
        old_automaton = _automaton(old_side, alphabet)
        new_automaton = _automaton(new_side, alphabet)
    except Untranslatable as error:
        return Outcome(UNDECIDED, reason=str(error))
    dropped_values = old_automaton - new_automaton
    gained_values = new_automaton - old_automaton
    dropped = gained = None
    if not dropped_values.isempty():
        dropped = _witness(
            dropped_values, alphabet, lambda v: old_accepts(v) and not new_accepts(v)
        )
        if dropped is None:
            return Outcome(UNDECIDED, reason=_NO_WITNESS)
    if not gained_values.isempty():
        gained = _witness(gained_values, alphabet, lambda v: new_accepts(v) and not old_accepts(v))
        if gained is None:
            return Outcome(UNDECIDED, reason=_NO_WITNESS)
    if dropped is not None and gained is not None:
        return Outcome(INCOMPARABLE, dropped, gained)
    if dropped is not None:
        return Outcome(NARROWED, dropped=dropped)
    if gained is not None:
        return Outcome(WIDENED, gained=gained)
    return Outcome(EQUAL)


_NO_WITNESS = (
    "the patterns differ only on values the base type or its whitespace handling refuses "
    f"anyway, or on values longer than the first {WITNESS_CANDIDATES} tried"
)

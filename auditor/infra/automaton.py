"""A small matcher for glob-shaped patterns that runs in linear time, whatever the pattern.

Patterns are trees of :data:`Node` (characters, greedy stars over one character class,
sequences, alternatives, optional parts and at most one capture). :class:`Automaton` compiles
several of them into one nondeterministic automaton (Thompson's construction) and matches a text
by walking the *set* of states it can be in, one character at a time, so the cost is at most
``len(text) × size of the patterns`` — never the exponential backtracking a regular expression
engine falls into on ``*a*a*a*a*b``. The sets met are remembered as a deterministic automaton
built on demand, so a matcher in use costs one dictionary lookup per character, and answers
are remembered by text.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, eq=False)  # compared by identity: the constructors below share them
class CharClass:
    """A set of characters, or (``negated``) every character but those."""

    chars: frozenset[str]
    negated: bool = False

    def accepts(self, char: str) -> bool:
        return (char in self.chars) != self.negated


ANY = CharClass(frozenset(), negated=True)


@functools.cache
def literal(char: str) -> CharClass:
    return CharClass(frozenset(char))


@functools.cache
def anything_but(chars: str) -> CharClass:
    return CharClass(frozenset(chars), negated=True)


@functools.cache
def one_of(chars: str) -> CharClass:
    return CharClass(frozenset(chars))


@dataclass(frozen=True)
class Char:
    """One character of a class."""

    cls: CharClass


@dataclass(frozen=True)
class Star:
    """Any number of characters of a class, as many as possible first."""

    cls: CharClass


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    """One of the options, tried in order."""

    options: tuple[Node, ...]


@dataclass(frozen=True)
class Opt:
    """The item or nothing, the item first."""

    item: Node


@dataclass(frozen=True)
class Capture:
    """The text the item matched is what :meth:`Automaton.capture` returns."""

    item: Node


Node = Char | Star | Seq | Alt | Opt | Capture

_CHAR, _SPLIT, _OPEN, _CLOSE, _MATCH = range(5)
_MAX_STATES = 4096  # deterministic states kept before the memo starts afresh
_MAX_ANSWERS = 4096  # answers by text kept before they are forgotten
_MAX_REMEMBERED = 1024  # longer texts are not kept
_NONE: frozenset[int] = frozenset()


class Automaton:
    """Several patterns compiled together; each text is matched against all of them at once."""

    def __init__(self, patterns: Sequence[Node]) -> None:
        self._patterns = tuple(patterns)
        self._kinds: list[int] = []
        self._classes: list[CharClass | None] = []
        self._outs: list[list[int]] = []
        self._labels: list[int] = []  # for a match state: the index of its pattern
        self._closures: list[frozenset[int] | None] = []  # per state, once asked for
        self.starts = tuple(
            self._build(pattern, self._add(_MATCH, label=index))
            for index, pattern in enumerate(self._patterns)
        )
        self._memo = _Memo(self)
        self._char_states = [s for s, kind in enumerate(self._kinds) if kind == _CHAR]
        self._silent_into: list[list[int]] = [[] for _ in self._kinds]
        for state, kind in enumerate(self._kinds):
            if kind in (_SPLIT, _OPEN, _CLOSE):
                for target in self._outs[state]:
                    self._silent_into[target].append(state)
        first = [s for s, label in enumerate(self._labels) if label == 0]
        self._ends = self._back_closure(first)  # the states that match an empty rest
        self._back: dict[tuple[frozenset[int], str], frozenset[int]] = {}

    def __reduce__(self) -> tuple[type[Automaton], tuple[tuple[Node, ...]]]:
        return (Automaton, (self._patterns,))  # the memo is rebuilt, not copied

    def matching(self, text: str) -> frozenset[int]:
        """The indices of the patterns that match the whole of ``text``."""
        memo = self._memo
        known = memo.answers.get(text)
        if known is not None:
            return known
        if len(memo.sets) > _MAX_STATES:
            memo = self._memo = _Memo(self)
        elif len(memo.answers) > _MAX_ANSWERS:
            memo.answers = {}
        transitions, state, answer = memo.transitions, 0, _NONE
        for char in text:
            following = transitions[state].get(char)
            if following is None:
                following = memo.step(state, char)
            if following == memo.dead:
                break  # no state left: nothing can match any more
            state = following
        else:
            answer = memo.accepting[state]
        if len(text) <= _MAX_REMEMBERED:
            memo.answers[text] = answer  # paths come back change after change
        return answer

    def matches(self, text: str) -> bool:
        """Whether any of the patterns matches the whole of ``text``."""
        return bool(self.matching(text))

    def capture(self, text: str) -> str | None:
        """What the first pattern's capture holds in its first match of the whole of ``text``
        (in the order the options are tried, as a regular expression would), or None.

        A backward pass finds, for each position, the states from which the rest of the text
        can be matched; the forward walk then takes, at each choice, the first option that
        leads to a match, so it never has to come back.
        """
        if 0 not in self.matching(text):
            return None  # the forward pass, memoised, answers most texts alone
        live = self._live(text)
        kinds, outs = self._kinds, self._outs
        state, pos, opened, closed = self.starts[0], 0, -1, -1
        if state not in live[0]:
            return None
        while kinds[state] != _MATCH:
            kind = kinds[state]
            if kind == _CHAR:
                state, pos = outs[state][0], pos + 1
                continue
            if kind == _OPEN:
                opened = pos
            elif kind == _CLOSE:
                closed = pos
            state = next(t for t in outs[state] if t in live[pos])
        return text[opened:closed] if opened >= 0 and closed >= 0 else None

    def _live(self, text: str) -> list[frozenset[int]]:
        """Per position of ``text`` (and its end), the states that match what follows."""
        back = self._back
        if len(back) > _MAX_STATES:
            back = self._back = {}
        live = [self._ends]
        for char in reversed(text):
            key = (live[-1], char)
            states = back.get(key)
            if states is None:
                states = back[key] = self._back_closure(
                    s
                    for s in self._char_states
                    if self._outs[s][0] in live[-1] and self._accepts(s, char)
                )
            live.append(states)
        live.reverse()
        return live

    def _accepts(self, state: int, char: str) -> bool:
        cls = self._classes[state]
        return cls is not None and cls.accepts(char)

    def _back_closure(self, states: Iterable[int]) -> frozenset[int]:
        """``states`` and every state that reaches one of them without reading."""
        found = set(states)
        pending = list(found)
        while pending:
            for earlier in self._silent_into[pending.pop()]:
                if earlier not in found:
                    found.add(earlier)
                    pending.append(earlier)
        return frozenset(found)

    def _add(self, kind: int, cls: CharClass | None = None, label: int = -1) -> int:
        self._kinds.append(kind)
        self._classes.append(cls)
        self._outs.append([])
        self._labels.append(label)
        self._closures.append(None)
        return len(self._kinds) - 1

    def _build(self, node: Node, following: int) -> int:
        """The first state of ``node``, continuing into ``following`` (built back to front)."""
        if isinstance(node, Char):
            state = self._add(_CHAR, node.cls)
            self._outs[state] = [following]
            return state
        if isinstance(node, Seq):
            for item in reversed(node.items):
                following = self._build(item, following)
            return following
        if isinstance(node, Star):
            split = self._add(_SPLIT)
            loop = self._add(_CHAR, node.cls)
            self._outs[loop] = [split]
            self._outs[split] = [loop, following]
            return split
        state = self._add(_OPEN if isinstance(node, Capture) else _SPLIT)
        if isinstance(node, Alt):
            self._outs[state] = [self._build(option, following) for option in node.options]
        elif isinstance(node, Opt):
            self._outs[state] = [self._build(node.item, following), following]
        else:
            close = self._add(_CLOSE)
            self._outs[close] = [following]
            self._outs[state] = [self._build(node.item, close)]
        return state

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        """The character and match states reachable from ``states`` without reading."""
        return _NONE.union(*map(self._closure_of, states))

    def _closure_of(self, state: int) -> frozenset[int]:
        known = self._closures[state]
        if known is None:
            found: set[int] = set()
            seen: set[int] = set()
            pending = [state]
            while pending:
                current = pending.pop()
                if current in seen:
                    continue
                seen.add(current)
                if self._kinds[current] in (_CHAR, _MATCH):
                    found.add(current)
                else:
                    pending.extend(self._outs[current])
            known = self._closures[state] = frozenset(found)
        return known

    def moves(self, states: frozenset[int]) -> tuple[tuple[CharClass, frozenset[int]], ...]:
        """Per character class read in ``states``: the states after reading one of its
        characters (a character of several classes leads to the union of theirs)."""
        by_class: dict[CharClass, list[int]] = {}
        for state in states:
            cls = self._classes[state]
            if cls is not None:
                by_class.setdefault(cls, []).append(self._outs[state][0])
        return tuple((cls, self.closure(targets)) for cls, targets in by_class.items())

    def accepted(self, states: frozenset[int]) -> frozenset[int]:
        """The patterns whose match state is among ``states``."""
        return frozenset(self._labels[s] for s in states if self._kinds[s] == _MATCH)


class _Memo:
    """The deterministic automaton of an :class:`Automaton`, built as texts need its states."""

    def __init__(self, automaton: Automaton) -> None:
        self._automaton = automaton
        self._lock = threading.Lock()
        self.sets: list[frozenset[int]] = []  # per deterministic state: its automaton states
        self.accepting: list[frozenset[int]] = []
        self.transitions: list[dict[str, int]] = []
        self._moves: list[tuple[tuple[CharClass, frozenset[int]], ...] | None] = []
        self.answers: dict[str, frozenset[int]] = {}
        self._index: dict[frozenset[int], int] = {}
        self._intern(automaton.closure(automaton.starts))  # state 0, where every text starts
        self.dead = self._intern(frozenset())

    def step(self, state: int, char: str) -> int:
        with self._lock:
            moves = self._moves[state]
            if moves is None:
                moves = self._moves[state] = self._automaton.moves(self.sets[state])
            following = self._intern(_NONE.union(*(s for c, s in moves if c.accepts(char))))
            self.transitions[state][char] = following
            return following

    def _intern(self, states: frozenset[int]) -> int:
        known = self._index.get(states)
        if known is None:
            known = self._index[states] = len(self.sets)
            self.sets.append(states)
            self.accepting.append(self._automaton.accepted(states))
            self.transitions.append({})
            self._moves.append(None)
        return known

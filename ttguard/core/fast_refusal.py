"""The first refusal: the server's first error in a refused request, found by a walk in the
server's own order.

Where the fast engine's lenient schema (:mod:`ttguard.core.fast_engine`) refuses a request, the
server answers with the request's first error in its order (:mod:`ttguard.core.keywords`): a
value's own errors first, in the order of its schema's keywords; then an object's declared
fields in their order, a missing required field in its place; then the object's keys in their
order, each key before its value; a list's items in order; a value an object's type reads
by ``dict()`` (a list of pairs) as that dict. :class:`Walk` goes through the request in that
order and stops at the first error. It judges each value by the rules
(:data:`~ttguard.core.rules.RULES`), the reference's own (but for a pattern Rust reads exactly
as Python does, which Rust searches in linear time:
:func:`~ttguard.core.fast_engine.exact_pattern`), and words the error as the reference does
(:func:`~ttguard.core.errors.schema_error_up`), so its answer is the reference's word for word; or
none, where the lenient reading was only stricter and the request passes.

**What it does not walk.** A value the lenient schema accepts holds no error (the lenient
reading is sound node by node), so the walk asks Rust before it enters one:

* a container field: whether it holds, unless it is the only place left where its refused
  object can fail (its last container field, with no keys to check, and the fields of rules
  only after it holding);
* an object's fields of rules only, where it has two or more beside a container field or keys:
  whether they all hold, in one pass;
* a collection (a list's items; a dict's entries, each a key and its value, where the dict
  declares no field; else its keys, and the values of the keys it does not declare one by
  one): where its first failing item or entry is. A dict's entries: by one Rust pass over the
  list of them that marks the key of the first it refuses (a ``format`` of ttguard's own, run
  only where an entry fails: :func:`_first_marked`). Items and keys: by a Rust pass over the
  list of them, then over its first alone, then a bisection of the rest; the first pass is
  skipped where the refusal leaves the list no way to hold (a refused list's items). In a
  failing entry Rust's proof of the key (0.11 us, against 0.18 us for the walk of its rules)
  tells whether it is the key or the value that fails.

Rust cannot read a lone surrogate: a pass that meets one proves nothing, and the walk goes in. A
request the parser knows Rust cannot read (``NaN``, which Rust reads as ``null``; a lone
surrogate: :func:`~ttguard.core.fast_engine.readable_text`) is walked with no proof at all
(:class:`NoProof`): every value by the rules.

Cost: the lenient pass; on a refusal, the rules of the fields before the failure on its path,
a Rust pass for each container field before it there, and in each collection on the path a
marking pass up to the failing entry, or a pass and a bisection (log n passes over halving
slices: about one pass more). It stops at the first error, however many follow. Each node's
walk is written out as Python for it when the walk is made, with the walks of the values below
it whose place is known (:class:`_Source`): the calls on a refusal's way are those of the rules,
Rust's passes and the searches. Measured on the refused docs-idiom bodies: at most 2.15x a
parse at 1 kB, 1.53x at 8 kB and 64 kB, before the walks below were written in place. (The
narrowing it replaced, which handed the reference the failing values, cost 1.2x at 64 kB for a
single fault, but 57x for a body with an error in each of its 1 200 entries.)
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, Protocol

from .catalogue import ANNOTATIONS, request_schema
from .errors import TTError, schema_error_up
from .fast_engine import exact_pattern, lenient_schema, rust_validator
from .rules import (
    EXTRA_FIELD,
    KEY_LOCATION,
    MISSING_FIELD,
    NOT_NONE,
    RULES,
    Rule,
    as_object,
    checked_text,
    mismatch,
    one_type,
    one_type_test,
    plain_types,
)

__all__ = ["NoProof", "Walk", "walk"]

#: What a walk finds: the steps to the value at fault (from it up to the walk's value), the
#: message, whether a field is missing.
Found = tuple[list[str | int], str, bool]
_CONTAINER_KEYWORDS = frozenset({"properties", "required", "propertyNames", "additionalProperties",
                                 "items"})


class Proof(Protocol):
    """Rust's validator of a lenient schema (``jsonschema_rs``), as the walk asks it."""

    def is_valid(self, instance: object, /) -> bool: ...


class Compile(Protocol):
    """Makes a :class:`Proof` of a schema, with the functions that judge its formats:
    :func:`~ttguard.core.fast_engine.rust_validator`, or :class:`NoProof`."""

    def __call__(self, schema: Any, /,
                 formats: Mapping[str, Callable[[str], bool]] | None = None) -> Proof: ...


#: The format of a failing entry's key in Rust's marking pass (:func:`_first_marked`).
_MARK = "ttguard-failing-entry"
_marked = threading.local()


def _mark(key: str) -> bool:
    """The :data:`_MARK` format: notes the key of the entry Rust refuses, and fails it, so the
    pass stops there."""
    _marked.key = key
    return False


def _marking(compile: Compile, entry: list[Any]) -> Proof:
    """Rust's validator of a list of entries, ``[key, value]`` pairs each held to the schemas
    in ``entry``, that marks the key of the first it refuses (:func:`_first_marked`)."""
    return compile({"items": {"if": {"prefixItems": entry},
                              "else": {"prefixItems": [{"format": _MARK}]}}}, {_MARK: _mark})


def _first_marked(marking: Proof, entries: list[tuple[str, Any]]) -> str | int | None:
    """The key of the first of a collection's ``entries`` that Rust refuses, found by one pass
    of ``marking``, which marks it (:func:`_mark`); else the index to search from: their count
    if Rust refuses none, 0 if it refuses them unmarked (:class:`NoProof`); None if it cannot
    read them (as in :func:`_holds`).

    One pass in place of a bisection's passes (the 1 kB identities with a fault in the middle
    of their ten entries: 0.8 us against 1.5). The key, not its index: that costs a search of
    the keys (0.19 us for ten), which only a search resumed past it needs.
    """
    _marked.key = None
    try:
        if marking.is_valid(entries):
            return len(entries)
    except (ValueError, OverflowError):
        return None
    key: str | None = _marked.key
    return 0 if key is None else key


def _holds(proof: Proof, value: object) -> bool:
    """Whether Rust proves ``value`` valid; a value it cannot read proves nothing."""
    try:
        return proof.is_valid(value)
    except (ValueError, OverflowError):  # a lone surrogate; an integer past 64 bits
        return False


def _first_failing(proof: Proof, values: list[Any], start: int, stop: int, *,
                   failing: bool = False, resumed: bool = False) -> int:
    """The index of the first of ``values[start:stop]`` that ``proof``, a Rust validator of a
    list of them, does not prove valid; ``stop`` if it proves them all.

    A first search passes over them all (unless ``failing`` says one of them fails), then over
    the first alone (a fault in the first item takes two passes, not log n), then bisects the
    rest. A search ``resumed`` after an item Rust refused but the rules accept gallops instead:
    windows of 1, 2, 4... items from ``start`` until one fails, which it bisects. A pass over
    the rest each time would make a request whose every item is such cost the square of its
    length (1 000 identities with a ``"validity_ts"`` in Arabic-Indic digits, which ``float()``
    reads: 16 ms, 92 times their parse); a gallop passes over each item a bounded number of
    times.
    """
    try:  # Rust's own call: a wrapper that catches would cost 0.05 us a pass
        return _search(proof.is_valid, values, start, stop, failing, resumed)
    except (ValueError, OverflowError):  # as in _holds(); searched again, each pass caught
        return _search(partial(_holds, proof), values, start, stop, failing, resumed)


def _search(holds: Callable[[list[Any]], bool], values: list[Any], start: int, stop: int,
            failing: bool, resumed: bool) -> int:
    """:func:`_first_failing`, with ``holds`` for the proof of a slice of ``values``."""
    if resumed:
        size = 1
        while start < stop:
            end = min(start + size, stop)
            if not holds(values[start:end]):
                return _search(holds, values, start, end, True, False)
            start, size = end, 2 * size
        return stop
    if start >= stop or (not failing and holds(values if start == 0 and stop == len(values)
                                               else values[start:stop])):
        return stop
    if stop - start == 1 or not holds(values[start:start + 1]):
        return start
    low, high = start + 1, stop  # the first item not proven is in values[low:high]
    while high - low > 1:
        middle = (low + high) // 2
        if holds(values[low:middle]):
            low = middle
        else:
            high = middle
    return low


@dataclass(frozen=True, slots=True)
class Walk:
    """The walk of one schema's node: its rules, its fields, its collection, and Rust's proofs."""

    schema: Mapping[str, Any]
    #: The keywords that judge the value itself, in the schema's order, with their values.
    rules: tuple[tuple[Rule, Any], ...]
    #: Where the first rule is a type: the Python types it accepts as they are, and the rules
    #: after it, all that a value of those types needs (a call saved on each value walked).
    plain: tuple[type, ...]
    after_type: tuple[tuple[Rule, Any], ...]
    #: Rust's validator of the lenient reading; None for a schema of rules only (no container
    #: keyword), whose rules cost less than the pass.
    proof: Proof | None
    #: The declared fields in their order: name, walk (None for a schema that judges nothing),
    #: required.
    fields: tuple[tuple[str, Walk | None, bool], ...]
    declared: frozenset[str]
    #: Where a refused object's failure must lie once the fields before it hold, and the fields
    #: of rules only after it that are there: its last container field, if it has no keys to
    #: check. It is walked without Rust's proof then. (A required field of rules missing after
    #: it would be a failure too, and the walk of the container in vain, no more: no catalogue
    #: schema requires one there.)
    last_container: str | None
    #: The fields of rules only declared after the last container field.
    leaves_after_last: tuple[str, ...]
    #: Rust's validator of the fields that are rules only, where there are two or more beside a
    #: container field or keys, or one after the last container field: one pass proves them all,
    #: where each rule is a Python call, and tells whether the last container field must fail.
    #: (Without a container field or keys, a refused object's failure lies in its fields of
    #: rules: the pass would only fail.)
    leaves_proof: Proof | None
    #: The walk of each key (``propertyNames``), and Rust's validator of a list of keys, but
    #: for a collection.
    names: Walk | None
    names_proof: Proof | None
    #: ``additionalProperties: false``.
    closed: bool
    #: Whether keys are checked: ``propertyNames``, ``additionalProperties``.
    has_keys: bool
    #: The walk of an undeclared key's value (``additionalProperties``).
    extra: Walk | None
    #: For a collection (values checked beside the keys, no declared field): Rust's validator
    #: of a list of its entries, ``(key, value)`` pairs, the same marking the key of the first
    #: it refuses (:func:`_first_marked`), and Rust's validator of one key (``propertyNames``).
    entries_proof: Proof | None
    entries_marking: Proof | None
    key_proof: Proof | None
    #: The walk of a list's items, and Rust's validator of a list of them.
    items: Walk | None
    items_proof: Proof | None
    #: The first error at or below a value, or None: ``first(value, refused=False)``, where
    #: ``refused`` says the lenient schema refuses the value, so Rust's proof is not asked. The
    #: steps to the value at fault come from it up, each caller adding its own: no path is built
    #: on the way down. Compiled for this node (:func:`_compiled`).
    first: Callable[..., Found | None] = dataclasses.field(init=False, repr=False,
                                                            compare=False)
    #: The message of the first of this schema's rules that refuses a value, if one does:
    #: ``refusal(value)``. Compiled for this node too.
    refusal: Callable[[Any], str | None] = dataclasses.field(init=False, repr=False,
                                                             compare=False)
    #: For a collection, the first error of an entry Rust refuses, ``refused_entry(key,
    #: value)``: its key's, then its value's. Compiled for this node too.
    refused_entry: Callable[[str, Any], Found | None] | None = dataclasses.field(
        init=False, repr=False, compare=False)

    @classmethod
    def of(cls, schema: Any, compile: Compile) -> Walk:
        """The walk of ``schema``; ``ValueError`` where a keyword has no rule here."""
        if not isinstance(schema, dict):
            raise ValueError(f"a schema that is not an object: {schema!r}")
        unknown = set(schema) - RULES.keys() - _CONTAINER_KEYWORDS - ANNOTATIONS
        if unknown:
            raise ValueError(f"keywords without a rule: {sorted(unknown)}")
        declared = schema.get("properties", {})
        required = schema.get("required", ())
        undeclared = set(required) - declared.keys()
        if undeclared:
            # Such a name ranks among the keys (keywords.required): no catalogue schema has one.
            raise ValueError(f"required names not declared: {sorted(undeclared)}")
        fields = tuple((name, cls.of(sub, compile).judging(), name in required)
                       for name, sub in declared.items())
        names, extra, items = (schema.get(keyword) for keyword in
                               ("propertyNames", "additionalProperties", "items"))
        closed = extra is False
        extra = extra if isinstance(extra, dict) else None
        containers = [name for name, field, _ in fields
                      if field is not None and field.proof is not None]
        leaves = {name: declared[name] for name, field, _ in fields
                  if field is not None and field.proof is None}
        has_keys = names is not None or extra is not None or closed
        last_container = containers[-1] if containers and not has_keys else None
        order = list(declared)
        leaves_after_last = () if last_container is None else tuple(
            name for name in order[order.index(last_container) + 1:] if name in leaves)

        def listed(item: Any) -> Proof | None:
            return None if item is None else compile({"items": lenient_schema(item)})

        # Values to check beside the keys, and no declared field: the entries are proven as
        # pairs. (Rust reads a value it has no rule for all the same: a list of keys alone costs
        # less where only keys are checked.)
        collection = (extra is not None or closed) and not declared
        entries = ([lenient_schema(names) if names is not None else True,
                    lenient_schema(extra) if extra is not None else not closed]
                   if collection else None)

        keywords = [(keyword, value) for keyword, value in schema.items() if keyword in RULES]
        plain = plain_types(keywords[0][1]) if keywords and keywords[0][0] == "type" else ()
        rules = tuple(_rule(keyword, value, schema) for keyword, value in keywords)
        walk = cls(
            schema, rules, plain, rules[1 if plain else 0:],
            compile(lenient_schema(schema)) if _CONTAINER_KEYWORDS & schema.keys() else None,
            fields, frozenset(declared),
            last_container, leaves_after_last,
            compile(lenient_schema({"properties": leaves,
                                    "required": [name for name in required if name in leaves]}))
            if (len(leaves) > 1 or leaves_after_last) and (containers or has_keys) else None,
            None if names is None else cls.of(names, compile),
            None if collection else listed(names),
            closed, has_keys,
            None if extra is None else cls.of(extra, compile),
            None if entries is None else compile({"items": {"prefixItems": entries}}),
            None if entries is None else _marking(compile, entries),
            compile(lenient_schema(names)) if collection and names is not None else None,
            None if not isinstance(items, dict) else cls.of(items, compile),
            listed(items) if isinstance(items, dict) else None)
        for name, function in _compiled(walk).items():
            object.__setattr__(walk, name, function)
        return walk

    def judging(self) -> Walk | None:
        """This walk, or None if it judges nothing (no rule, no container keyword)."""
        return self if self.rules or self.proof is not None else None

    def verdict(self, request: Mapping[str, object]) -> TTError | None:
        """The server's answer to a request, this being the walk of its schema; None: accepted.
        Rust's pass of the request's lenient schema proves it first, whatever its size."""
        found = self.first(request)
        if found is None:
            return None
        return schema_error_up(*found)

    def _first_in_keys(self, value: dict[str, Any], refused: bool) -> Found | None:
        # An object of keys to check and declared fields, or of keys only: where such is
        # ``refused`` (by the lenient schema) and its rules hold, a key fails.
        keys = list(value)
        count = len(keys)
        names_proof = self.names_proof
        key_at = -1  # the first failing key from index on, once searched (count: none)
        index = 0
        while index < count:
            if key_at < index:
                key_at = (count if names_proof is None else
                          _first_failing(names_proof, keys, index, count, resumed=index > 0,
                                         failing=refused and index == 0 and not self.declared))
            # A value fails after its key: only those up to the failing key matter.
            end = min(key_at + 1, count)
            value_at = next((at for at in range(index, end) if keys[at] not in self.declared),
                            count) if self.extra is not None or self.closed else count
            index = min(key_at, value_at)
            if index == count:
                return None
            found = self._first_in_entry(keys[index], value[keys[index]], index == key_at,
                                         index == value_at, False)
            if found is not None:
                return found
            index += 1
        return None

    def _rest_of_entries(self, value: dict[str, Any], entries: list[tuple[str, Any]],
                         marked: str | int | None, refused: bool) -> Found | None:
        """The first error of a collection's ``entries``, the items of ``value``, after Rust's
        marking pass (:func:`_first_marked`), which ``first()`` makes and whose marked entry it
        walks: ``marked`` is what the pass gave. A key: the rules accept that entry, which Rust
        refused, and the search goes on past it. Else where the search starts: the index, or
        None where Rust cannot read the entries (a bisection then, each pass caught).
        ``refused``: by the lenient schema; where the collection's rules hold, an entry fails.

        Rust proves a collection's entries as (key, value) pairs, so one search finds the first
        that fails, by its key or its value. (A search of the keys, then one of the values up
        to the failing key, passed over the keys twice.)
        """
        proof = self.entries_proof
        assert proof is not None and self.refused_entry is not None
        count = len(entries)
        if isinstance(marked, str):
            # Past an entry the rules accept, by a gallop (a marking pass over the rest each time
            # would cost the square of the count).
            index = _first_failing(proof, entries, list(value).index(marked) + 1, count,
                                   resumed=True)
        elif marked is None:
            index = _first_failing(proof, entries, 0, count, failing=refused)
        else:
            index = marked
        while index < count:
            found = self.refused_entry(*entries[index])
            if found is not None:
                return found
            index = _first_failing(proof, entries, index + 1, count, resumed=True)
        return None

    def _first_in_entry(self, key: str, item: Any, check_key: bool, check_value: bool,
                        value_refused: bool, /) -> Found | None:
        """The first error of one entry of an object: its key's, then its value's if the key is
        not declared. ``value_refused``: Rust refuses the value, so its proof is not asked."""
        if check_key and self.names is not None:
            message = self.names.refusal(key)  # a key is a string: rules are all that apply
            if message is not None:
                return [KEY_LOCATION], message, False
        if check_value and key not in self.declared:
            if self.closed:
                return [key], EXTRA_FIELD, False
            if self.extra is not None:
                found = self.extra.first(item, value_refused)
                if found is not None:
                    found[0].append(key)
                    return found
        return None

    def _first_in_items(self, items: list[Any], refused: bool) -> Found | None:
        # ``refused``: as in _first_in_keys, where the list's rules hold, an item fails.
        proof = self.items_proof
        assert self.items is not None and proof is not None
        index, count = 0, len(items)
        while (index := _first_failing(proof, items, index, count, resumed=index > 0,
                                       failing=refused and index == 0)) < count:
            found = self.items.first(items[index], refused=True)
            if found is not None:
                found[0].append(index)
                return found
            index += 1
        return None


# -- the walk of a node, compiled ----------------------------------------------------------------
#
# A refused request is walked through each object on its path (the request, its body, a
# collection, an entry's value), and a walk written for any node asks at each step what the
# node has: a proof, rules for this type, which fields, which of them last. Those answers are
# known once the node is, so each node's walk is written out as Python for it (as `dataclasses`
# writes a class's `__init__`): its fields in their order, a field of rules only judged in
# place, nothing the node lacks. And the walks of the nodes below it are written out in it, as
# far as a value's place is known: its fields, their fields, a collection's marked entry and
# that entry's value. A walk that called one function a node spent 1.5 us of a 1 kB refusal's
# 10.7 (the identities refused in their last entry) on nine calls and the steps each returned
# to its caller, as a hand-written refusal of the same Rust passes showed; written out, the
# steps to the fault are known where it is found, and the calls left are those of Rust's
# passes, of a value's rules (but a type's) and of the searches that may go on past a value.


#: The deepest indentation at which a walk below is written out in place; deeper, its node's own
#: function is called (the catalogue's deepest walk reaches 16 levels).
_MOST_INDENTED = 60


def _compiled(walk: Walk) -> dict[str, Callable[..., Any] | None]:
    """``walk.first``, ``walk.refusal`` and ``walk.refused_entry``, written out for ``walk``
    (:class:`_Source`)."""
    source = _Source(walk)
    code = compile(source.text(), "<ttguard walk>", "exec")
    namespace = dict(source.names)
    exec(code, namespace)
    return {name: namespace.get(name) for name in ("first", "refusal", "refused_entry")}


class _Source:
    """The source of the functions of one node of a walk, and the values they read (``names``).

    ``refusal(value)``: the message of the first of the node's rules that refuses ``value``, or
    None.

    ``first(value, refused=False)``: the first error at or below ``value``, or None, in the
    server's order (:mod:`ttguard.core.keywords`): Rust's proof of the value, unless
    ``refused`` says it fails; a value the object's type reads by ``dict()`` (a list of pairs,
    ``""``) judged as that dict, proof and all; the value's rules; a list's items; an object's
    declared fields in their order (a missing required field in its place; a field of rules
    only by its rules, unless Rust proves them all at once; a container field by its own walk,
    where Rust refuses it or it is the last place left for the failure); then a collection's
    entries (Rust's marking pass, the marked entry walked, then the rest of the search:
    :meth:`Walk._rest_of_entries`), or the keys.

    ``refused_entry(key, item)``, for a collection: the first error of an entry Rust refuses,
    its key's, then its value's. Where Rust proves the key, the entry's value is what it
    refuses. Its proof costs less than the walk of the key's rules (0.11 us against 0.18), which
    a refused key then takes: asking the rules first cost a refused value more than it spared a
    refused key.

    A field's walk, a marked entry's and its value's are written out in place (:meth:`node`),
    each node's variables numbered apart; a return there gives the steps from the fault up to
    the function's value whole. A search that may go on past a value (a list's items, an
    object's keys, the rest of a collection's entries) and a value read by ``dict()`` call the
    node's own functions, and add the steps up from it.

    A traceback through these functions names the file ``<ttguard walk>`` and shows no line:
    ``_Source(walk).text()`` gives the source again, the same lines.
    """

    def __init__(self, walk: Walk) -> None:
        self.walk = walk
        self.names: dict[str, Any] = {"as_object": as_object, "holds": _holds,
                                      "first_marked": _first_marked,
                                      "MISSING_FIELD": MISSING_FIELD, "EXTRA_FIELD": EXTRA_FIELD,
                                      "KEY_LOCATION": KEY_LOCATION, "NOT_NONE": NOT_NONE}
        self.lines: list[str] = []
        self._named: dict[int, str] = {}  # each value's name, by identity: one name a value
        self.variables = 0  # local variables named so far

    def text(self) -> str:
        walk = self.walk
        self.emit(0, "def refusal(value):")
        self.rules(1, walk, "value", walk.plain, "message")
        self.emit(1, "return None")
        self.emit(0, "def first(value, refused=False):")
        if walk.proof is not None:
            self.emit(1, "if not refused:")
            self.emit(2, "try:")
            self.emit(3, f"if {self.name('proof', walk.proof.is_valid)}(value):")
            self.emit(4, "return None")
            self.emit(2, "except (ValueError, OverflowError):  # as in holds(): proves nothing")
            self.emit(3, "pass")
        self.node(1, walk, "value", "refused", ())
        self.emit(1, "return None")
        if walk.entries_proof is not None:
            self.emit(0, "def refused_entry(key, item):")
            self.entry(1, walk, "key", "item", ())
            self.emit(1, "return None")
        return "\n".join(self.lines) + "\n"

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def name(self, prefix: str, value: object) -> str:
        """A name in the functions' namespace for ``value``: the one it has, if named before
        (the namespace holds it, so its identity stays its own)."""
        name = self._named.get(id(value))
        if name is None:
            name = self._named[id(value)] = f"{prefix}{len(self.names)}"
            self.names[name] = value
        return name

    def variable(self, prefix: str) -> str:
        """A local variable's name, used nowhere else: each node written out has its own."""
        self.variables += 1
        return f"{prefix}_{self.variables}"

    def first_of(self, walk: Walk) -> str:
        """The name of ``walk.first``: the function being written, or one written before."""
        return "first" if walk is self.walk else self.name("first", walk.first)

    @staticmethod
    def found(steps: tuple[str, ...], message: str, missing: bool = False) -> str:
        """What ``first()`` returns for a fault at ``steps``, expressions from the fault up."""
        return f"[{', '.join(steps)}], {message}, {missing}"

    def returned(self, indent: int, call: str, steps: tuple[str, ...]) -> None:
        """Calls a function that returns what ``first()`` does, for the value at ``steps`` (up
        to the function's value), and returns a fault it finds, with those steps added."""
        self.emit(indent, f"found = {call}")
        self.emit(indent, "if found is not None:")
        if len(steps) == 1:
            self.emit(indent + 1, f"found[0].append({steps[0]})")
        elif steps:
            self.emit(indent + 1, f"found[0].extend(({', '.join(steps)},))")
        self.emit(indent + 1, "return found")

    def node(self, indent: int, walk: Walk, value: str, refused: str,
             steps: tuple[str, ...]) -> None:
        """The checks of ``walk`` on the variable ``value``, not proven (``refused``: an
        expression, whether Rust refuses it), at ``steps`` from the function's value: each
        fault returned, else on to the code that follows."""
        self.emit(indent, f"if not isinstance({value}, dict):")
        if walk.schema.get("type") == "object":  # else as_object() reads nothing
            schema = self.name("schema", walk.schema)
            self.emit(indent + 1, f"read = as_object({value}, {schema})")
            self.emit(indent + 1, "if read is not None:")
            self.returned(indent + 2, f"{self.first_of(walk)}(read)", steps)
            self.emit(indent + 1, "else:")
            indent += 1
        judged = self.rules(indent + 1, walk, value,
                            tuple(plain for plain in walk.plain if not issubclass(plain, dict)),
                            self.found(steps, "message"))
        if walk.items is not None:
            judged = True
            self.emit(indent + 1, f"if isinstance({value}, list):")
            self.returned(indent + 2, f"{self.name('items', walk._first_in_items)}({value}, "
                                      f"{refused})", steps)
        if not judged:
            self.emit(indent + 1, "pass")
        if walk.schema.get("type") == "object":
            indent -= 1
        self.emit(indent, "else:")
        indent += 1
        if walk.plain == (dict,):  # an object's type takes any dict as it is
            self.rule_lines(indent, walk, walk.after_type, value, self.found(steps, "message"))
            judged = bool(walk.after_type)
        else:
            judged = self.rules(indent, walk, value, (), self.found(steps, "message"))
        leaves_hold = self.variable("leaves_hold")
        if walk.leaves_proof is not None:
            # Whether the fields of rules only hold is asked once, at the first that needs it:
            # the failure may come before.
            self.emit(indent, f"{leaves_hold} = None")
            judged = True
        for field_name, field, required in walk.fields:
            judged = self.field(indent, walk, value, field_name, field, required, steps,
                                leaves_hold) or judged
        if walk.entries_proof is not None:
            assert walk.entries_marking is not None
            entries, marked = self.variable("entries"), self.variable("marked")
            self.emit(indent, f"{entries} = list({value}.items())")
            self.emit(indent, f"{marked} = first_marked("
                              f"{self.name('marking', walk.entries_marking)}, {entries})")
            item = self.variable("item")
            self.emit(indent, f"if isinstance({marked}, str):")
            self.emit(indent + 1, f"{item} = {value}[{marked}]")
            self.entry(indent + 1, walk, marked, item, steps)
            self.returned(indent, f"{self.name('rest', walk._rest_of_entries)}({value}, "
                                  f"{entries}, {marked}, {refused})", steps)
        elif walk.has_keys:
            self.returned(indent, f"{self.name('keys', walk._first_in_keys)}({value}, "
                                  f"{refused})", steps)
        elif not judged:
            self.emit(indent, "pass")

    def enter(self, indent: int, walk: Walk, value: str, refused: str,
              steps: tuple[str, ...]) -> None:
        """The walk of a value below (:meth:`node`) where Rust does not prove it, ``refused``
        saying whether it is known to fail (an expression: ``"True"``, ``"False"``, a
        variable): a value Rust cannot read is walked by the node's own function, with its
        proofs."""
        if indent > _MOST_INDENTED:  # Python reads 100 levels of indentation at most
            self.returned(indent, f"{self.first_of(walk)}({value}, {refused})", steps)
            return
        if walk.proof is None or refused == "True":  # nothing to prove; or known to fail
            self.node(indent, walk, value, "True", steps)
            return
        proof = self.name("proof", walk.proof.is_valid)
        if refused == "False":
            self.emit(indent, "try:")
            self.emit(indent + 1, f"held = {proof}({value})")
        else:
            self.emit(indent, f"if {refused}:")
            self.emit(indent + 1, "held = False")
            self.emit(indent, "else:")
            indent += 1
            self.emit(indent, "try:")
            self.emit(indent + 1, f"held = {proof}({value})")
        self.emit(indent, "except (ValueError, OverflowError):  # as in holds(): proves nothing")
        self.emit(indent + 1, "held = None")
        if refused != "False":
            indent -= 1
        self.emit(indent, "if held is None:")
        self.returned(indent + 1, f"{self.first_of(walk)}({value}, False)", steps)
        self.emit(indent, "elif not held:")
        self.node(indent + 1, walk, value, "True", steps)

    def entry(self, indent: int, walk: Walk, key: str, item: str,
              steps: tuple[str, ...]) -> None:
        """The checks of an entry of the collection ``walk`` that Rust refuses, its key and
        value in the variables ``key`` and ``item``: its key's, then its value's, each fault
        returned."""
        value_refused = "True"
        if walk.key_proof is not None:
            assert walk.names is not None  # the key's proof is that of its schema
            value_refused = self.variable("value_refused")
            self.emit(indent, f"{value_refused} = True")
            self.emit(indent, "try:")
            self.emit(indent + 1, f"if not {self.name('key_proof', walk.key_proof.is_valid)}"
                                  f"({key}):")
            self.emit(indent + 2, f"{value_refused} = False")
            self.emit(indent, "except (ValueError, OverflowError):  # as in holds(): proves "
                              "nothing")
            self.emit(indent + 1, f"{value_refused} = False")
            self.emit(indent, f"if not {value_refused}:")
            if not self.rules(indent + 1, walk.names, key, walk.names.plain,
                              self.found(("KEY_LOCATION", *steps), "message")):
                self.emit(indent + 1, "pass")
        if walk.closed:
            self.emit(indent, f"return {self.found((key, *steps), 'EXTRA_FIELD')}")
        elif walk.extra is not None:
            self.enter(indent, walk.extra, item, value_refused, (key, *steps))
        else:
            self.emit(indent, "pass")

    def rules(self, indent: int, walk: Walk, subject: str, plain: tuple[type, ...],
              found: str) -> bool:
        """The rules of ``walk`` on the variable ``subject``, each returning ``found`` where it
        refuses; a value of the types its first rule (a type) takes as they are, ``plain``,
        needs only the rules after it. Whether there are any."""
        if not plain:
            self.rule_lines(indent, walk, walk.rules, subject, found)
        elif walk.after_type:
            self.emit(indent, f"if type({subject}) in {self.name('plain', plain)}:")
            self.rule_lines(indent + 1, walk, walk.after_type, subject, found)
            self.emit(indent, "else:")
            self.rule_lines(indent + 1, walk, walk.rules, subject, found)
        elif walk.rules:
            self.emit(indent, f"if type({subject}) not in {self.name('plain', plain)}:")
            self.rule_lines(indent + 1, walk, walk.rules, subject, found)
        return bool(walk.rules)

    def rule_lines(self, indent: int, walk: Walk, rules: tuple[tuple[Rule, Any], ...],
                   subject: str, found: str) -> None:
        """Each of ``rules`` (``walk``'s) on ``subject``, returning ``found`` where it refuses.
        A type of one name is written out (:func:`~ttguard.core.rules.one_type`, its test
        called here: a call less)."""
        schema = self.name("schema", walk.schema) if rules else ""
        for rule, expected in rules:
            if rule is one_type:
                accepts, message = expected
                self.emit(indent, f"message = NOT_NONE if {subject} is None else None if "
                                  f"{self.name('accepts', accepts)}({subject}) else "
                                  f"{self.name('message', message)}")
            else:
                self.emit(indent, f"message = {self.name('rule', rule)}("
                                  f"{self.name('expected', expected)}, {subject}, {schema})")
            self.emit(indent, "if message is not None:")
            self.emit(indent + 1, f"return {found}")

    def field(self, indent: int, walk: Walk, value: str, name: str, field: Walk | None,
              required: bool, steps: tuple[str, ...], leaves_hold: str) -> bool:
        """The checks of one declared field ``name`` of ``walk``'s object, the variable
        ``value``; whether there are any."""
        key = repr(name)
        if field is None:  # it judges nothing: only its absence may fail
            if required:
                self.emit(indent, f"if {key} not in {value}:")
                self.emit(indent + 1, f"return {self.found((key, *steps), 'MISSING_FIELD', True)}")
            return required
        item = self.variable("item")
        self.emit(indent, f"if {key} in {value}:")
        self.emit(indent + 1, f"{item} = {value}[{key}]")
        outer = indent
        indent += 1
        if not required:  # None stands for an Optional field left out
            self.emit(indent, f"if {item} is not None:")
            indent += 1
        if field.proof is None:  # rules only, judged here
            if walk.leaves_proof is not None:
                self.leaves_hold(indent, walk, value, leaves_hold)
                self.emit(indent, f"if not {leaves_hold}:")
                indent += 1
            if not self.rules(indent, field, item, field.plain,
                              self.found((key, *steps), "message")):
                self.emit(indent, "pass")
        elif name != walk.last_container:
            self.enter(indent, field, item, "False", (key, *steps))  # proven here, where it holds
        elif not walk.leaves_after_last:
            self.enter(indent, field, item, "True", (key, *steps))
        else:
            # Where a field of rules only after it is there, that may be what fails.
            refused = self.variable("refused")
            self.emit(indent, "if " + " and ".join(f"{after!r} not in {value}"
                                                   for after in walk.leaves_after_last) + ":")
            self.emit(indent + 1, f"{refused} = True")
            self.emit(indent, "else:")
            self.leaves_hold(indent + 1, walk, value, leaves_hold)
            self.emit(indent + 1, f"{refused} = {leaves_hold}")
            self.enter(indent, field, item, refused, (key, *steps))
        if required:
            self.emit(outer, "else:")
            self.emit(outer + 1, f"return {self.found((key, *steps), 'MISSING_FIELD', True)}")
        return True

    def leaves_hold(self, indent: int, walk: Walk, value: str, leaves_hold: str) -> None:
        """Asks Rust, once, whether the object's fields of rules only all hold."""
        self.emit(indent, f"if {leaves_hold} is None:")
        self.emit(indent + 1, f"{leaves_hold} = holds({self.name('leaves', walk.leaves_proof)}, "
                              f"{value})")


def _rule(keyword: str, value: Any, schema: Mapping[str, Any]) -> tuple[Rule, Any]:
    """A keyword's rule as the walk applies it to ``schema``, with the value the rule takes: the
    reference's own, but for a pattern Rust reads exactly as Python does, which Rust searches
    (:func:`_pattern_in_rust`), and a type of one name, whose test is known from the schema
    (:func:`~ttguard.core.rules.one_type`)."""
    if keyword == "type" and isinstance(value, str) and value != "null":
        return one_type, one_type_test(value, schema)
    if keyword == "pattern":
        spelled = exact_pattern(value)
        if spelled is not None:  # one Rust cannot compile is no walk's (walk())
            return _pattern_in_rust, (rust_validator({"pattern": spelled}).is_valid,
                                      mismatch(value, schema))
    return RULES[keyword], value


def _pattern_in_rust(search: tuple[Callable[[str], bool], str], instance: Any,
                     schema: Mapping[str, Any]) -> str | None:
    """The ``pattern`` rule (:func:`ttguard.core.rules.pattern`), ``search`` being Rust's search
    for the pattern, and the message of a string it refuses; the search accepts exactly what
    Python's does
    (:func:`~ttguard.core.fast_engine.exact_pattern`), in linear time: Python's ``regex`` took
    up to 7 ms to refuse a 60 kB key, 220 times its parse (Rust: 85 us), and 0.4 us for an
    identities key (Rust: 0.1 us)."""
    if not isinstance(instance, str):  # a key's search, the common case, makes no call here
        instance = checked_text(instance, schema)
        if instance is None:
            return None
    if not instance.isascii():
        # Rust cannot read a lone surrogate. A pattern it searches exactly tells no two
        # characters outside ASCII apart, so U+FFFD stands in for one (left to Python's search,
        # a 60 kB key with one would cost 7 ms again).
        instance = _SURROGATE.sub("\ufffd", instance)
    holds, message = search
    return None if holds(instance) else message


_SURROGATE = re.compile("[\ud800-\udfff]")


class NoProof:
    """Stands for Rust's validator where Rust cannot read the request (``NaN`` it reads as
    ``null``; a lone surrogate makes each pass raise): it proves nothing, so the walk judges
    every value by the rules. On 64 kB of identities each keyed with a lone surrogate this walk
    costs 11x a parse, the walk with Rust's proofs, each raising, 34x, the reference 19x."""

    def __init__(self, schema: object,
                 formats: Mapping[str, Callable[[str], bool]] | None = None) -> None:
        self.schema = schema

    def is_valid(self, value: object) -> bool:
        return False


@cache
def walk(operation: str, proofs: bool = True) -> Walk | None:
    """The walk of an operation's request schema, with Rust's proofs or without them
    (:class:`NoProof`); None where it has none, or where the lenient reading does not know a
    keyword of it (the fast engine has none then either)."""
    schema = request_schema(operation)
    if schema is None:
        return None
    try:
        return Walk.of(schema, rust_validator if proofs else NoProof)
    except ValueError:  # UnknownKeyword, a keyword without a rule, a schema Rust cannot compile
        return None

"""A fast reader for the plain subset of HCL that most Terraform files are written in.

python-hcl2 parses with a general LALR parser and is slow (milliseconds per block). Most blocks
of real Terraform hold nothing but literals, references and nested blocks, which this module
reads directly into exactly the structure ``hcl2.loads`` returns with the options auditor uses
(``explicit_blocks``, ``strip_string_quotes``, no comments, no heredoc preservation).

Supported: blocks, attributes, strings without templates, numbers, ``true``/``false``/``null``,
references (``var.x``, ``aws_vpc.main.id``), lists, objects, function calls over those
(``merge(var.tags, { Name = "x" })``, ``map(string)``) and plain heredocs. Anything else —
operators, conditionals, ``for`` expressions, index and splat traversals, templates with
``${``/``%{``, unusual escapes, block comments, carriage returns — raises
:class:`Unsupported`, and the caller parses the text with python-hcl2 instead. The reader
never accepts a text python-hcl2 rejects: when in doubt it declines.
``tests/test_infra_hclfast.py`` compares both on a corpus.
"""

from __future__ import annotations

import re

BLOCK_MARK = "__is_block__"


class Unsupported(Exception):
    """The text uses HCL beyond the plain subset; parse it with python-hcl2."""


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TRAVERSAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_STRING = re.compile(r'"((?:[^"\\\n$%]|\\[\\"ntr]|[$%](?!\{))*)"')
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n", "\\t": "\t", "\\r": "\r"}
_ESCAPE = re.compile(r"\\[\\\"ntr]")
_BLANK = re.compile(r"[ \t]*")
_SPACE = re.compile(r"(?:[ \t\n]|(?:#|//)[^\n]*)*")  # whitespace, newlines and line comments
_LINE_END = re.compile(r"[ \t]*(?:(?:#|//)[^\n]*)?(?:\n|\Z)")
_VALUE_END = re.compile(r"[ \t]*(?=[\n,\]}#]|//|\Z)")
_KEYWORDS = {"true": True, "false": False, "null": None}
_KEYWORD_LIKE = frozenset({"true", "false", "null", "for", "if", "in"})
_IDENTIFIER_CHAR = re.compile(r"[A-Za-z0-9_.\-]")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)\(")
_GAP = re.compile(r"[ \t\n]*")  # inside calls: no comments (they would be dropped)
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)\n")
_TEMPLATE = re.compile(r"[$%]\{")


def loads(text: str) -> dict[str, object]:
    """``text`` as ``hcl2.loads`` returns it; raises :class:`Unsupported` outside the subset."""
    if "\r" in text or "/*" in text:
        raise Unsupported("carriage return or block comment")
    return _Reader(text).body(top=True)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> Unsupported:
        return Unsupported(f"{what} at offset {self.pos}")

    def skip(self, regex: re.Pattern[str]) -> None:
        found = regex.match(self.text, self.pos)
        if found:
            self.pos = found.end()

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def body(self, top: bool) -> dict[str, object]:
        result: dict[str, object] = {}
        attributes: set[str] = set()
        blocks: set[str] = set()
        while True:
            self.skip(_SPACE)
            if self.pos >= len(self.text):
                if top:
                    return result
                raise self.fail("unterminated block")
            if self.peek() == "}":
                if top:
                    raise self.fail("unbalanced brace")
                self.pos += 1
                return result
            name = self.identifier()
            self.skip(_BLANK)
            if self.peek() == "=" and self.text[self.pos + 1 : self.pos + 2] != "=":
                self.pos += 1
                if name in blocks:
                    raise self.fail("attribute named like a block")
                attributes.add(name)
                result[name] = self.value()
                self.line_end()
            else:
                if name in attributes:
                    raise self.fail("block named like an attribute")
                blocks.add(name)
                block = self.block()
                existing = result.setdefault(name, [])
                assert isinstance(existing, list)
                existing.append(block)

    def identifier(self) -> str:
        found = _IDENT.match(self.text, self.pos)
        if found is None:
            raise self.fail("expected an identifier")
        self.pos = found.end()
        return found.group()

    def block(self) -> dict[str, object]:
        labels: list[str] = []
        while True:
            self.skip(_BLANK)
            char = self.peek()
            if char == "{":
                self.pos += 1
                break
            if char == '"':
                labels.append(self.string())
            else:
                labels.append(self.identifier())
        self.skip(_BLANK)
        if self.peek() == "}":
            self.pos += 1
            body: dict[str, object] = {}
        else:
            self.line_end()
            body = self.body(top=False)
        body[BLOCK_MARK] = True
        self.line_end()
        block: dict[str, object] = body
        for label in reversed(labels):
            block = {label: block}
        return block

    def line_end(self) -> None:
        found = _LINE_END.match(self.text, self.pos)
        if found is None:
            raise self.fail("expected the end of the line")
        self.pos = found.end()

    def value(self) -> object:
        self.skip(_BLANK)
        char = self.peek()
        if char == '"':
            value: object = self.string()
        elif char == "[":
            self.pos += 1
            value = self.list_value()
        elif char == "{":
            self.pos += 1
            value = self.object_value()
        elif char == "-" or char.isdigit():
            value = self.number()
        elif char == "<":
            value = self.heredoc()
        elif _CALL.match(self.text, self.pos):
            value = "${" + self.call() + "}"
        else:
            found = _TRAVERSAL.match(self.text, self.pos)
            if found is None:
                raise self.fail("unsupported expression")
            word = found.group()
            self.pos = found.end()
            if word in _KEYWORDS:
                value = _KEYWORDS[word]
            elif word.split(".", 1)[0].lower() in _KEYWORD_LIKE:
                raise self.fail("keyword-like identifier")
            elif "." in word:
                value = "${" + word + "}"
            else:
                value = word
        end = _VALUE_END.match(self.text, self.pos)
        if end is None:
            raise self.fail("expression continues")
        self.pos = end.end()
        return value

    def number(self) -> int | float:
        found = _NUMBER.match(self.text, self.pos)
        if found is None:
            raise self.fail("unsupported number")
        self.pos = found.end()
        if _IDENTIFIER_CHAR.match(self.text, self.pos):
            raise self.fail("unsupported number")
        literal = found.group()
        return float(literal) if "." in literal else int(literal)

    def string(self) -> str:
        found = _STRING.match(self.text, self.pos)
        if found is None:
            raise self.fail("unsupported string")
        self.pos = found.end()
        return _ESCAPE.sub(lambda m: _ESCAPES[m.group()], found.group(1))

    def list_value(self) -> list[object]:
        items: list[object] = []
        while True:
            self.skip(_SPACE)
            if self.peek() == "]":
                self.pos += 1
                return items
            items.append(self.value())
            self.skip(_SPACE)
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != "]":
                raise self.fail("expected , or ]")

    def object_value(self) -> dict[str, object]:
        items: dict[str, object] = {}
        while True:
            self.skip(_SPACE)
            if self.peek() == "}":
                self.pos += 1
                return items
            if self.peek() == '"':
                key = self.string()
            else:
                key = self.identifier()
                if key.lower() in _KEYWORD_LIKE:
                    raise self.fail("keyword-like key")
            self.skip(_BLANK)
            if self.peek() not in ("=", ":") or self.text[self.pos + 1 : self.pos + 2] == "=":
                raise self.fail("expected = or :")
            self.pos += 1
            items[key] = self.value()
            start = self.pos
            self.skip(_SPACE)
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != "}" and "\n" not in self.text[start : self.pos]:
                raise self.fail("expected , or a new line")

    def heredoc(self) -> str:
        found = _HEREDOC.match(self.text, self.pos)
        if found is None:
            raise self.fail("unsupported heredoc")
        indented, marker = found.group(1) == "-", found.group(2)
        lines: list[str] = []
        position = found.end()
        while True:
            if position > len(self.text):
                raise self.fail("unterminated heredoc")
            end = self.text.find("\n", position)
            end = len(self.text) if end < 0 else end
            line = self.text[position:end]
            if line.strip() == marker:
                if line.rstrip(" \t") != line or (not indented and line != marker):
                    raise self.fail("heredoc marker with blanks")
                self.pos = end
                break
            lines.append(line)
            position = end + 1
        content = "\n".join(lines)
        if _TEMPLATE.search(content) or "\t" in content:
            raise self.fail("template or tab in heredoc")
        if indented and lines:
            if any(not line.strip() for line in lines):
                raise self.fail("blank line in an indented heredoc")
            margin = min(len(line) - len(line.lstrip(" ")) for line in lines)
            content = "\n".join(line[margin:] for line in lines)
        return content

    def call(self) -> str:
        """A function call's source as python-hcl2 renders it (``f(a, {k = 1})``)."""
        found = _CALL.match(self.text, self.pos)
        assert found is not None
        self.pos = found.end()
        args: list[str] = []
        while True:
            self.skip(_GAP)
            if self.peek() == ")":
                self.pos += 1
                return f"{found.group(1)}({', '.join(args)})"
            args.append(self.source())
            self.skip(_GAP)
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != ")":
                raise self.fail("expected , or )")

    def source(self) -> str:
        """An expression inside a call, rendered as python-hcl2 renders it."""
        char = self.peek()
        if char == '"':
            start = self.pos
            self.string()
            return self.text[start : self.pos]
        if char == "[":
            self.pos += 1
            return "[" + ", ".join(self.sequence("]")) + "]"
        if char == "{":
            self.pos += 1
            return "{" + ", ".join(self.sequence("}", keyed=True)) + "}"
        if _CALL.match(self.text, self.pos):
            return self.call()
        if char == "-" or char.isdigit():
            found = _PLAIN_NUMBER.match(self.text, self.pos)
        else:
            found = _TRAVERSAL.match(self.text, self.pos)
            if found and found.group().split(".", 1)[0] in ("for", "if", "in"):
                raise self.fail("keyword in a call")
        if found is None or _IDENTIFIER_CHAR.match(self.text, found.end()):
            raise self.fail("unsupported expression in a call")
        self.pos = found.end()
        return found.group()

    def sequence(self, closer: str, keyed: bool = False) -> list[str]:
        items: list[str] = []
        while True:
            self.skip(_GAP)
            if self.peek() == closer:
                self.pos += 1
                return items
            if keyed:
                start = self.pos
                if self.peek() == '"':
                    self.string()
                else:
                    self.identifier()
                key = self.text[start : self.pos]
                self.skip(_BLANK)
                if self.peek() != "=" or self.text[self.pos + 1 : self.pos + 2] == "=":
                    raise self.fail("expected =")
                self.pos += 1
                self.skip(_BLANK)
                items.append(f"{key} = {self.source()}")
            else:
                items.append(self.source())
            start = self.pos
            self.skip(_GAP)
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char != closer and not (keyed and "\n" in self.text[start : self.pos]):
                raise self.fail(f"expected , or {closer}")

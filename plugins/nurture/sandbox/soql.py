"""A practical SOQL subset translated to DuckDB SQL.

SELECT f1, f2 | COUNT() FROM Object
[WHERE cond [AND|OR cond ...]]   -- =, !=, <>, <, <=, >, >=, LIKE, IN (...), NOT IN (...),
                                 -- parentheses, NOT; literals: 'text', numbers, true,
                                 -- false, null, 2026-01-01, 2026-01-01T00:00:00Z,
                                 -- TODAY, YESTERDAY, LAST_N_DAYS:n
[ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

OBJECTS: dict[str, str] = {
    "Lead": "sf_lead",
    "Contact": "sf_contact",
    "Account": "sf_account",
    "Opportunity": "sf_opportunity",
    "OpportunityHistory": "sf_opportunity_history",
    "OpportunityContactRole": "sf_opportunity_contact_role",
    "User": "sf_user",
    "Task": "sf_task",
    "Campaign": "sf_campaign",  # a view of the launched Marketo programs
    "CampaignMember": "sf_campaign_member",
    "LeadHistory": "sf_lead_history",  # field history: written by Salesforce itself
}
READ_ONLY_OBJECTS = frozenset({"Campaign", "CampaignMember", "LeadHistory"})


class SoqlError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Query:
    sobject: str
    table: str
    fields: list[str]  # canonical field names, in the order asked
    where: str = ""
    params: list[Any] = field(default_factory=list)
    order: str = '"Id"'
    limit: int | None = None
    offset: int = 0
    count_only: bool = False


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
      | (?P<date>\d{4}-\d{2}-\d{2})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*(?::\d+)?)
    )""",
    re.VERBOSE,
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SoqlError(
                "MALFORMED_QUERY", f"unexpected token: '{text[pos : pos + 20].strip()}'"
            )
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    def __init__(self, text: str, columns: dict[str, dict[str, str]], today: date) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.columns = columns  # sobject -> {lower name: canonical name}
        self.today = today
        self.params: list[Any] = []
        self.fieldmap: dict[str, str] = {}
        self.sobject = ""

    def peek(self) -> str:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else ""

    def keyword(self, *words: str) -> bool:
        if self.peek().upper() in words:
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word.upper()) and self.peek() != word:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{self.peek() or 'EOF'}'")

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def field(self, name: str) -> str:
        canonical = self.fieldmap.get(name.lower())
        if canonical is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{self.sobject}'. If you are attempting "
                "to use a custom field, be sure to append the '__c' after the custom field "
                "name.",
            )
        return canonical

    def parse(self) -> Query:
        self.expect("SELECT")
        raw_fields: list[str] = []
        count_only = False
        if self.peek().upper() == "COUNT":
            self.take()
            self.expect("(")
            self.expect(")")
            count_only = True
        else:
            while True:
                kind, value = self.take()
                if kind != "word":
                    raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{value}'")
                raw_fields.append(value)
                if self.peek() != ",":
                    break
                self.take()
        self.expect("FROM")
        _, obj = self.take()
        match = next((o for o in OBJECTS if o.lower() == obj.lower()), None)
        if match is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"sObject type '{obj}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name.",
            )
        self.sobject = match
        self.fieldmap = self.columns[match]
        fields = [self.field(f) for f in raw_fields]
        query = Query(match, OBJECTS[match], fields, count_only=count_only)
        if self.keyword("WHERE"):
            query.where = self.expr()
        if self.keyword("ORDER"):
            self.expect("BY")
            query.order = self.order_by()
        if self.keyword("LIMIT"):
            query.limit = self.integer()
        if self.keyword("OFFSET"):
            query.offset = self.integer()
        if self.i < len(self.tokens):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{self.peek()}'")
        query.params = self.params
        return query

    def integer(self) -> int:
        kind, value = self.take()
        if kind != "number" or not value.isdigit():
            raise SoqlError("MALFORMED_QUERY", f"expected a number, found '{value}'")
        return int(value)

    def order_by(self) -> str:
        parts = []
        while True:
            _, name = self.take()
            part = f'"{self.field(name)}"'
            if self.keyword("DESC"):
                part += " DESC"
            else:
                self.keyword("ASC")
            if self.keyword("NULLS"):
                part += " NULLS FIRST" if self.keyword("FIRST") else " NULLS LAST"
                if not part.endswith(("FIRST", "LAST")):
                    raise SoqlError("MALFORMED_QUERY", "NULLS needs FIRST or LAST")
            parts.append(part)
            if self.peek() != ",":
                break
            self.take()
        if '"Id"' not in parts:
            parts.append('"Id"')  # a total order so paging never repeats or skips
        return ", ".join(parts)

    def expr(self) -> str:
        left = self.term()
        while self.peek().upper() in ("AND", "OR"):
            op = self.take()[1].upper()
            left = f"{left} {op} {self.term()}"
        return left

    def term(self) -> str:
        if self.keyword("NOT"):
            return f"NOT ({self.term()})"
        if self.peek() == "(":
            self.take()
            inner = self.expr()
            self.expect(")")
            return f"({inner})"
        return self.condition()

    def condition(self) -> str:
        kind, name = self.take()
        if kind != "word":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{name}'")
        col = f'"{self.field(name)}"'
        negate = self.keyword("NOT")
        if self.keyword("IN"):
            self.expect("(")
            values = [self.literal()]
            while self.peek() == ",":
                self.take()
                values.append(self.literal())
            self.expect(")")
            self.params.extend(values)
            return f"{col} {'NOT ' if negate else ''}IN ({', '.join('?' * len(values))})"
        if negate:
            raise SoqlError("MALFORMED_QUERY", "NOT must be followed by IN here")
        if self.keyword("LIKE"):
            self.params.append(self.literal())
            return f"{col} ILIKE ?"
        kind, op = self.take()
        if kind != "op" or op in ("(", ")", ","):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{op}'")
        value = self.literal(op)
        if value is None:
            if op not in ("=", "!=", "<>"):
                raise SoqlError("MALFORMED_QUERY", "null can only be compared with = or !=")
            return f"{col} IS {'NOT ' if op != '=' else ''}NULL"
        if isinstance(value, tuple):  # a date range literal such as LAST_N_DAYS:30
            lo, hi = value
            ranges = {
                "=": f"({col} >= ? AND {col} < ?)",
                ">": f"{col} >= ?",
                ">=": f"{col} >= ?",
                "<": f"{col} < ?",
                "<=": f"{col} < ?",
            }
            if op in (">", ">="):
                self.params.append(hi if op == ">" else lo)
            elif op in ("<", "<="):
                self.params.append(lo if op == "<" else hi)
            elif op == "=":
                self.params += [lo, hi]
            else:
                raise SoqlError("MALFORMED_QUERY", f"operator {op} not supported with date ranges")
            return ranges[op]
        self.params.append(value)
        return f"{col} {'<>' if op == '!=' else op} ?"

    def literal(self, op: str = "=") -> Any:
        kind, value = self.take()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", value[1:-1])
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "datetime":
            text = value.replace("Z", "+00:00")
            if re.search(r"[+-]\d{4}$", text):
                text = text[:-2] + ":" + text[-2:]
            parsed = datetime.fromisoformat(text)
            return parsed.replace(tzinfo=None) - (parsed.utcoffset() or timedelta())
        if kind == "date":
            return datetime.fromisoformat(value)
        if kind == "word":
            upper = value.upper()
            if upper in ("TRUE", "FALSE"):
                return upper == "TRUE"
            if upper == "NULL":
                return None
            day = datetime(self.today.year, self.today.month, self.today.day)
            if upper == "TODAY":
                return (day, day + timedelta(days=1))
            if upper == "YESTERDAY":
                return (day - timedelta(days=1), day)
            if upper.startswith("LAST_N_DAYS:"):
                n = int(upper.split(":")[1])
                return (day - timedelta(days=n), day + timedelta(days=1))
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{value}'")


def parse(text: str, columns: dict[str, dict[str, str]], today: date) -> Query:
    return _Parser(text, columns, today).parse()

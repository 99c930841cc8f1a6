"""Request validation against the feature schema: every invalid field of every record is reported.

A 422 lists each problem as {"field", "message"} (and "record", the index, for a record of a batch);
`message` joins them for humans and `field` names the first, as before.
"""

from collections.abc import Callable, Iterable
from typing import Any

from .spec import Field

# A validated request record: field name -> JSON value (numbers normalised).
Record = dict[str, Any]
# One problem: (record index or None, field or None, message).
Problem = tuple[int | None, str | None, str]

_INF = float("inf")
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
MAX_LABEL_CHARS = 256
# A request listing thousands of bad fields gets the first ones: enough to fix it, bounded in size.
MAX_ERRORS = 100


class BadRequest(Exception):
    """A client error: answered with its status, never a 500, and the server keeps serving."""

    def __init__(self, status: int, message: str, field: str | None = None, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON error body of the answer."""
        err: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.field is not None:
            err["field"] = self.field
        if self.errors:
            err["errors"] = self.errors
        return {"error": err}


def short(value: object) -> str:
    """A value as a bounded repr, for messages."""
    try:
        text = repr(value)
    except RecursionError:  # a deeply nested value
        return f"a deeply nested {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def _unprocessable(problems: list[Problem], where_of: Callable[[int | None], str]) -> BadRequest:
    """422 from [(record index or None, field, message)]."""
    errors: list[dict[str, Any]] = []
    for i, field, message in problems[:MAX_ERRORS]:
        e: dict[str, Any] = {"field": field, "message": message}
        if i is not None:
            e["record"] = i
        errors.append(e)
    text = "; ".join(f"{where_of(i)}: {m}" for i, _, m in problems[:5])
    if len(problems) > 5:
        text += f"; and {len(problems) - 5} more (see errors)"
    return BadRequest(422, text, problems[0][1], errors)


class Validator:
    """The schema of one project, compiled to a loop over a tuple (the hot path of every request)."""

    def __init__(self, fields: Iterable[Field], max_request_records: int, label_numeric: bool = False) -> None:
        self.fields = tuple(fields)
        self.names = frozenset(f.name for f in self.fields)
        self.max_records = max_request_records
        self.label_numeric = label_numeric

    def check_record(self, rec: object, where: str = "the record", index: int | None = None) -> Record:
        """One record -> the record with numbers normalised (number -> float); 422 listing every problem."""
        out, problems = self._check(rec)
        if problems:
            raise _unprocessable([(index, f, m) for f, m in problems], lambda _: where)
        return out

    def _check(self, rec: object) -> tuple[Record, list[tuple[str | None, str]]]:
        """(the record with numbers normalised, [(field, message)]): the record only counts without problems."""
        if type(rec) is not dict:
            return {}, [(None, f"must be a JSON object of fields, got {type(rec).__name__}")]
        problems: list[tuple[str | None, str]] = []
        for key in rec:
            if key not in self.names:
                problems.append((str(key)[:100], f"unknown field {short(key)}"))
        out: Record = {}
        for name, kind, lo, hi, allowed, nullable in self.fields:
            v = rec.get(name)
            if v is None:
                if nullable:
                    out[name] = None
                else:
                    problems.append((name, f"field {name!r} is {'missing' if name not in rec else 'null'}"))
                continue
            t = type(v)
            if kind == "number":
                if t is int:
                    v = float(v)
                elif t is not float:
                    problems.append((name, f"field {name!r} must be a number, got {short(v)}"))
                    continue
                if v != v or v == _INF or v == -_INF:
                    problems.append((name, f"field {name!r} must be a finite number"))
                    continue
            elif kind == "integer":
                if t is float and v.is_integer():
                    v = int(v)
                elif t is not int:
                    problems.append((name, f"field {name!r} must be an integer, got {short(v)}"))
                    continue
            elif kind == "category":
                if t is not str or allowed is None or v not in allowed:
                    problems.append((name, f"field {name!r} must be one of {', '.join(allowed or ())}; got {short(v)}"))
                    continue
            elif kind == "string":
                if t is not str:
                    problems.append((name, f"field {name!r} must be a string, got {short(v)}"))
                    continue
            elif t is not bool:
                problems.append((name, f"field {name!r} must be true or false, got {short(v)}"))
                continue
            if lo is not None and v < lo:
                problems.append((name, f"field {name!r} must be >= {lo}, got {v}"))
            elif hi is not None and v > hi:
                problems.append((name, f"field {name!r} must be <= {hi}, got {v}"))
            else:
                out[name] = v
        return out, problems

    def check_payload(self, payload: object) -> tuple[list[Record], bool]:
        """Any accepted request shape -> (records, batch?); 422 listing every bad field of every record."""
        items: list[Any]
        if type(payload) is dict:
            if len(payload) == 1 and type(payload.get("instances")) is list:
                items = payload["instances"]
            else:
                return [self.check_record(payload)], False
        elif type(payload) is list:
            items = payload
        else:
            raise BadRequest(422, 'the body must be a record object, a list of records or {"instances": [...]}')
        if not items:
            raise BadRequest(422, "the batch is empty: send at least one record")
        if len(items) > self.max_records:
            raise BadRequest(413, f"the batch has {len(items)} records; at most {self.max_records} per request")
        records: list[Record] = []
        problems: list[Problem] = []
        for i, r in enumerate(items):
            out, bad = self._check(r)
            if bad:
                problems += [(i, f, m) for f, m in bad]
            else:
                records.append(out)
        if problems:
            raise _unprocessable(problems, lambda i: f"record {i}")
        return records, True

    def check_feedback(self, payload: object) -> list[tuple[str, Any]]:
        """A feedback body -> [(id, label)]; 422 naming the field for anything else."""
        items: list[Any] = payload if type(payload) is list else [payload]
        if not items:
            raise BadRequest(422, 'the feedback list is empty: send at least one {"id": ..., "label": ...}')
        if len(items) > self.max_records:
            raise BadRequest(413, f"the feedback has {len(items)} labels; at most {self.max_records} per request")
        out: list[tuple[str, Any]] = []
        for i, item in enumerate(items):
            where = "the feedback" if type(payload) is not list else f"feedback {i}"
            if type(item) is not dict:
                raise BadRequest(422, where + ' must be an object {"id": ..., "label": ...}, got ' + type(item).__name__)
            for key in item:
                if key not in ("id", "label"):
                    raise BadRequest(422, f"{where}: unknown field {short(key)}; send only id and label", str(key)[:100])
            rid = item.get("id")
            if type(rid) is not str or not 0 < len(rid) <= 100 or not all(c in _ID_CHARS for c in rid):
                raise BadRequest(422, f"{where}: field 'id' must be a prediction id (1-100 letters, digits, '.', '_' or '-'), got {short(rid)}", "id")
            if "label" not in item or item["label"] is None:
                raise BadRequest(422, f"{where}: field 'label' is {'missing' if 'label' not in item else 'null'}", "label")
            label = item["label"]
            t = type(label)
            if t is float and (label != label or label == _INF or label == -_INF):
                raise BadRequest(422, f"{where}: field 'label' must be a finite number", "label")
            if self.label_numeric:
                if t is not int and t is not float:
                    raise BadRequest(422, f"{where}: field 'label' must be a number, got {short(label)}", "label")
            elif t is str:
                if not 0 < len(label) <= MAX_LABEL_CHARS:
                    raise BadRequest(422, f"{where}: field 'label' must be 1-{MAX_LABEL_CHARS} characters", "label")
            elif t is not int and t is not bool and t is not float:
                raise BadRequest(422, f"{where}: field 'label' must be a class (string, integer or boolean), got {short(label)}", "label")
            out.append((rid, label))
        return out

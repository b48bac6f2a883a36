"""A minimal stand-in for the querystring_parser package (not packaged by Debian), enough for
MLflow's server: `parse(query, normalized=True)` of flat keys, repeated keys and `key[i]` lists."""
import re
from urllib.parse import parse_qsl

_INDEXED = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<index>\d*)\]$")


def parse(query_string, normalized=False):
    result = {}
    indexed = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        match = _INDEXED.match(key)
        if match:
            position = int(match.group("index") or 0)
            indexed.setdefault(match.group("name"), []).append((position, value))
        elif key in result:
            existing = result[key]
            result[key] = (existing if isinstance(existing, list) else [existing]) + [value]
        else:
            result[key] = value
    for name, items in indexed.items():
        result[name] = [value for _, value in sorted(items, key=lambda item: item[0])]
    return result

"""Moto server for ccp-backstop's tests and local stack: python3 backstop-moto-server.py PORT

Two adjustments to stock `python3 -m moto.server`, neither changing what an API call answers:
- Requests are accepted concurrently but handled one at a time. Moto's backends are not safe under
  concurrent requests (concurrent TransactWriteItems answered 500 here), and the backstop does write in
  parallel.
- TransactWriteItems keeps its rollback copy of only the items the transaction touches. Stock moto deep-copies
  the whole table once per transaction item, which made every close cost O(table size) (87 ms per transaction
  at 2,000 items, 17 ms with this patch); rollback on a failed condition still restores the touched items.
  The copies are also dropped from moto's instance tracker, which otherwise kept every one alive.
- A Query on a global secondary index reads only the items in that index. Stock moto scans every item of the
  table for each index query, so a sparse index cost O(table) instead of O(index); DynamoDB's cost (and the
  backstop's design: sparse sharded indexes) is proportional to the items in the index. The server tracks, per
  index, the keys of the items that carry the index's key attributes, from the keys every write request
  names; the query itself is moto's, over those items.
The server exits when its stdin closes, i.e. when the JVM that started it goes away for any reason.
"""
import copy
import os
import sys
import threading
from collections import defaultdict

port = int(sys.argv[1])
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
os.environ.setdefault("MOTO_PORT", str(port))

import moto.dynamodb.models as dynamodb_models  # noqa: E402
from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: E402
from moto.dynamodb.models.dynamo_type import Item  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import run_simple  # noqa: E402

_touched = threading.local()


class _RollbackCopy:
    """Stands in for the copy module inside moto's DynamoDB backend: a Table copy shares untouched items."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            # moto's models append every instance they create to a class-level list (for its reset API) and
            # never let go: without trimming, each transaction's rollback copy (and the table it points at)
            # stayed in memory, and a 10,000-close run grew moto past 20 GB.
            tracked = [(cls, len(cls.instances_tracked)) for cls in (Table, Item)]
            snapshot = copy.copy(value)
            touched = getattr(_touched, "keys", {}).get(value.name, set())
            # Untouched entries are shared (the transaction cannot change them); the dict copy runs in C.
            snapshot.items = defaultdict(dict, value.items)
            for hash_key in touched:
                if hash_key in value.items:
                    snapshot.items[hash_key] = copy.deepcopy(value.items[hash_key])
            for cls, before in tracked:
                del cls.instances_tracked[before:]
            return snapshot
        return copy.deepcopy(value, memo)


dynamodb_models.copy = _RollbackCopy()
_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def _transact_write_items_copying_touched_items(self, transact_items):
    keys = {}
    for item in transact_items:
        _, op = next(iter(item.items()))
        table = self.tables.get(op.get("TableName"))
        key = op.get("Key") or op.get("Item")
        if table is not None and key and table.hash_key_attr in key:
            keys.setdefault(table.name, set()).add(DynamoType(key[table.hash_key_attr]))
    _touched.keys = keys
    try:
        return _transact_write_items(self, transact_items)
    finally:
        _touched.keys = {}


dynamodb_models.DynamoDBBackend.transact_write_items = _transact_write_items_copying_touched_items

# --- Sparse index membership -------------------------------------------------------------------------
import io  # noqa: E402
import json  # noqa: E402

_members = {}  # table name -> index name -> set of (hash DynamoType, range DynamoType or None)


def _key_of(table, attrs):
    if not attrs or table.hash_key_attr not in attrs:
        return None
    hash_key = DynamoType(attrs[table.hash_key_attr])
    range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr and table.range_key_attr in attrs else None
    return hash_key, range_key


def _written_keys(target, body):
    """(table name, key attributes) of every item a DynamoDB write request names."""
    op = target.rsplit(".", 1)[-1]
    if op in ("PutItem", "UpdateItem", "DeleteItem"):
        yield body.get("TableName"), body.get("Item") or body.get("Key")
    elif op == "TransactWriteItems":
        for entry in body.get("TransactItems", []):
            for kind, action in entry.items():
                if kind != "ConditionCheck":
                    yield action.get("TableName"), action.get("Item") or action.get("Key")
    elif op == "BatchWriteItem":
        for table_name, requests in body.get("RequestItems", {}).items():
            for request in requests:
                put = request.get("PutRequest")
                yield table_name, (put or request.get("DeleteRequest", {})).get("Item") or request.get("DeleteRequest", {}).get("Key")
    elif op in ("CreateTable", "DeleteTable"):
        _members.pop(body.get("TableName"), None)


def _tables():
    for account in list(dynamodb_models.dynamodb_backends.keys()):
        for region in list(dynamodb_models.dynamodb_backends[account].keys()):
            yield from dynamodb_models.dynamodb_backends[account][region].tables.values()


def _track(target, body):
    written = [(name, attrs) for name, attrs in _written_keys(target, body) if name and attrs]
    if not written:
        return
    tables = {table.name: table for table in _tables()}
    for name, attrs in written:
        table = tables.get(name)
        key = _key_of(table, attrs) if table is not None else None
        if key is None:
            continue
        entry = table.items.get(key[0])
        item = entry.get(key[1]) if table.range_key_attr and isinstance(entry, dict) else entry
        for index in table.global_indexes:
            names = [k["AttributeName"] for k in index.schema]
            members = _members.setdefault(name, {}).setdefault(index.name, set())
            if item is not None and all(n in item.attrs for n in names):
                members.add(key)
            else:
                members.discard(key)


_query = Table.query


def _query_index_members_only(self, *args, **kwargs):
    index_name = kwargs.get("index_name") if "index_name" in kwargs else (args[7] if len(args) > 7 else None)
    members = _members.get(self.name, {}).get(index_name) if index_name else None
    if members is None or not any(i.name == index_name for i in self.global_indexes):
        return _query(self, *args, **kwargs)

    def index_items():
        found = []
        for hash_key, range_key in members:
            entry = self.items.get(hash_key)
            item = entry.get(range_key) if self.range_key_attr and isinstance(entry, dict) else entry
            if item is not None:
                found.append(item)
        return found

    self.all_items = index_items
    try:
        return _query(self, *args, **kwargs)
    finally:
        del self.all_items


Table.query = _query_index_members_only

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def one_at_a_time(environ, start_response):
    with lock:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        body = None
        if target.startswith("DynamoDB_"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
        answer = list(app(environ, start_response))
        if body is not None:
            _track(target, body)
        return answer


run_simple("127.0.0.1", port, one_at_a_time, threaded=True)

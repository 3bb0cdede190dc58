"""Moto server for ccp-backstop's tests and local stack: python3 backstop-moto-server.py PORT

Adjustments to stock `python3 -m moto.server`; the first three change nothing an API call answers:
- Requests are accepted concurrently but handled one at a time. Moto's backends are not safe under
  concurrent requests (concurrent TransactWriteItems answered 500 here), and the backstop does write in
  parallel.
- TransactWriteItems keeps a rollback copy of only the items the transaction touches. Stock moto deep-copies
  the whole table once per transaction item, which made every close cost O(table size) (87 ms per transaction
  at 2,000 items, 17 ms with this patch); a failed transaction still restores every touched item. The copies
  are dropped from moto's instance tracker, which otherwise kept every one alive.
- A Query on a global secondary index reads only the items of the queried index partition. Stock moto scans
  every item of the table for each index query, so a sparse sharded index cost O(table) instead of
  O(partition); DynamoDB's cost (and the backstop's design: sparse indexes sharded 16 ways) follows the items
  in the partition. The server tracks, per index and partition key value, the keys of the items that carry
  the index's key attributes, from the keys every write request names; the query itself is moto's, over those
  items.
- A test can mark a global secondary index as backfilling (POST /backstop/backfilling with
  {"TableName", "IndexName", "Backfilling": true|false}). DynamoDB fills an index that UpdateTable added for
  minutes to hours after the deploy that added it has finished, and meanwhile DescribeTable reports it
  IndexStatus CREATING with Backfilling true and every Query on it answers ValidationException "Cannot read
  from backfilling global secondary index"; moto builds an index at once and has no such phase. While marked,
  the index answers both as DynamoDB does; nothing else changes.
The server exits when its stdin closes, i.e. when the JVM that started it goes away for any reason.
"""
import copy
import os
import sys
import threading

port = int(sys.argv[1])
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
os.environ.setdefault("MOTO_PORT", str(port))

import moto.dynamodb.models as dynamodb_models  # noqa: E402
from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: E402
from moto.dynamodb.models.dynamo_type import Item  # noqa: E402
from moto.dynamodb.exceptions import MockValidationException  # noqa: E402
from moto.dynamodb.models.table import GlobalSecondaryIndex  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import run_simple  # noqa: E402

class _NoTableCopy:
    """Stands in for the copy module inside moto's DynamoDB backend: its per-transaction "backup" of a whole
    table becomes the table itself (no copy); the rollback of the touched items is done below instead."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


dynamodb_models.copy = _NoTableCopy()
_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items
_MISSING = object()


def _transact_write_items_copying_touched_items(self, transact_items):
    saved = []
    tracked = [(cls, len(cls.instances_tracked)) for cls in (Table, Item)]
    for item in transact_items:
        _, op = next(iter(item.items()))
        table = self.tables.get(op.get("TableName"))
        key = op.get("Key") or op.get("Item")
        if table is not None and key and table.hash_key_attr in key:
            hash_key = DynamoType(key[table.hash_key_attr])
            entry = table.items.get(hash_key, _MISSING)
            saved.append((table, hash_key, _MISSING if entry is _MISSING else copy.deepcopy(entry)))
    # moto's models append every instance they create to a class-level list (for its reset API) and never let
    # go: the copies above would stay in memory for good (a 10,000-close run grew moto past 20 GB).
    for cls, before in tracked:
        del cls.instances_tracked[before:]
    try:
        return _transact_write_items(self, transact_items)
    except BaseException:
        for table, hash_key, entry in reversed(saved):
            if entry is _MISSING:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = entry
        raise


dynamodb_models.DynamoDBBackend.transact_write_items = _transact_write_items_copying_touched_items

# --- Sparse index membership -------------------------------------------------------------------------
import io  # noqa: E402
import json  # noqa: E402

_members = {}  # table name -> index name -> index hash value -> set of item keys (hash, range or None)
_where = {}  # table name -> index name -> item key -> its index hash value (to move it when that changes)


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
            hash_name = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
            partitions = _members.setdefault(name, {}).setdefault(index.name, {})
            where = _where.setdefault(name, {}).setdefault(index.name, {})
            before = where.pop(key, None)
            if before is not None:
                partitions.get(before, set()).discard(key)
            if item is not None and all(n in item.attrs for n in names):
                partition = item.attrs[hash_name]
                partitions.setdefault(partition, set()).add(key)
                where[key] = partition


_query = Table.query


def _query_index_members_only(self, *args, **kwargs):
    index_name = kwargs.get("index_name") if "index_name" in kwargs else (args[7] if len(args) > 7 else None)
    if any(i.name == index_name and getattr(i, "backstop_backfilling", False) for i in self.global_indexes):
        raise MockValidationException(BACKFILLING_MESSAGE + ": " + index_name)  # as DynamoDB words it
    partitions = _members.get(self.name, {}).get(index_name) if index_name else None
    hash_key = kwargs.get("hash_key") if "hash_key" in kwargs else (args[0] if args else None)
    if partitions is None or not isinstance(hash_key, DynamoType) or not any(i.name == index_name for i in self.global_indexes):
        return _query(self, *args, **kwargs)
    members = partitions.get(hash_key, set())
    index = next(i for i in self.global_indexes if i.name == index_name)
    range_name = next((k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"), None)
    comparison = kwargs.get("range_comparison") if "range_comparison" in kwargs else (args[1] if len(args) > 1 else None)
    bounds = kwargs.get("range_objs") if "range_objs" in kwargs else (args[2] if len(args) > 2 else [])
    # DynamoDB reads only the sort-key range a query asks for; pass moto only those items (moto still checks).
    in_range = {
        "<": lambda v: v < bounds[0], "<=": lambda v: v <= bounds[0],
        ">": lambda v: v > bounds[0], ">=": lambda v: v >= bounds[0],
        "BETWEEN": lambda v: bounds[0] <= v <= bounds[1],
    }.get(comparison) if range_name and bounds else None

    def index_items():
        found = []
        for item_hash, item_range in members:
            entry = self.items.get(item_hash)
            item = entry.get(item_range) if self.range_key_attr and isinstance(entry, dict) else entry
            if item is None:
                continue
            if in_range is not None:
                value = item.attrs.get(range_name)
                if value is None or not in_range(value):
                    continue
            found.append(item)
        return found

    self.all_items = index_items
    try:
        return _query(self, *args, **kwargs)
    finally:
        del self.all_items


Table.query = _query_index_members_only

# --- Backfilling indexes (a test's switch) ------------------------------------------------------------
BACKFILLING_MESSAGE = "Cannot read from backfilling global secondary index"
_describe_index = GlobalSecondaryIndex.describe


def _describe_index_as_filled_or_not(self):
    described = _describe_index(self)
    if getattr(self, "backstop_backfilling", False):
        described.update({"IndexStatus": "CREATING", "Backfilling": True})
    return described


GlobalSecondaryIndex.describe = _describe_index_as_filled_or_not


def _mark_backfilling(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) if length else b"{}")
    marked = 0
    for table in _tables():
        if table.name == body.get("TableName"):
            for index in table.global_indexes:
                if index.name == body.get("IndexName"):
                    index.backstop_backfilling = bool(body.get("Backfilling"))
                    marked += 1
    start_response("200 OK" if marked else "404 Not Found", [("Content-Type", "application/json")])
    return [json.dumps({"marked": marked}).encode()]

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def one_at_a_time(environ, start_response):
    with lock:
        if environ.get("PATH_INFO") == "/backstop/backfilling" and environ.get("REQUEST_METHOD") == "POST":
            return _mark_backfilling(environ, start_response)
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

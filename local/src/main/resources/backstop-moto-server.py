"""Moto server for ccp-backstop's tests and local stack: python3 backstop-moto-server.py PORT

Two adjustments to stock `python3 -m moto.server`, neither changing what an API call answers:
- Requests are accepted concurrently but handled one at a time. Moto's backends are not safe under
  concurrent requests (concurrent TransactWriteItems answered 500 here), and the backstop does write in
  parallel.
- TransactWriteItems keeps its rollback copy of only the items the transaction touches. Stock moto deep-copies
  the whole table once per transaction item, which made every close cost O(table size) (87 ms per transaction
  at 2,000 items, 17 ms with this patch); rollback on a failed condition still restores the touched items.
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
            snapshot = copy.copy(value)
            touched = getattr(_touched, "keys", {}).get(value.name, set())
            snapshot.items = defaultdict(dict)
            for hash_key, entry in value.items.items():
                if hash_key in touched:
                    snapshot.items[hash_key] = copy.deepcopy(entry)
                else:
                    snapshot.items[hash_key] = dict(entry) if isinstance(entry, dict) else entry
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

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def one_at_a_time(environ, start_response):
    with lock:
        return list(app(environ, start_response))


run_simple("127.0.0.1", port, one_at_a_time, threaded=True)

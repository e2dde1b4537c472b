# Runs a Code node's Python for Sluice (crates/nodes/src/code/python.rs). Reads one JSON request
# on stdin: {"code", "mode": "all"|"each", "items": [{json, binary?}], "nodes": {name: {"all":
# [...], "paired": [item or null per input item]}}, "runIndex", "workflow", "execution"}, runs
# the code as the body of an async function (so top-level `return` and `await` work), and
# writes one JSON line on stdout: {"ok": true, "runs": [value returned by each run], "logs":
# [...]} or {"ok": false, "error", "line", "item"}. What the code prints is collected as logs,
# not mixed into the answer.
import ast
import io
import json
import sys
import traceback

CODE_FILE = "<code>"


class Obj(dict):
    """A JSON object readable as in n8n's Python (Pyodide): `item.json.name` and
    `item["json"]["name"]` both work, and assignments through either are seen by both;
    `to_py()` (Pyodide's conversion of a JavaScript object) gives the object itself."""

    def to_py(self):
        return self

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

    def __delattr__(self, key):
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None


def wrap(value):
    if isinstance(value, dict):
        return Obj((k, wrap(v)) for k, v in value.items())
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


class NodeData:
    """`_input` and `_('Node')`: a node's items, all of them or one."""

    def __init__(self, items, paired=None):
        self._items = items
        self._paired = paired
        self._index = 0

    def all(self, *_args):
        return self._items

    def first(self, *_args):
        return self._items[0] if self._items else None

    def last(self, *_args):
        return self._items[-1] if self._items else None

    @property
    def item(self):
        if self._paired is not None:
            return self._paired[self._index]
        return self._items[self._index] if self._index < len(self._items) else None

    def itemMatching(self, index):
        if self._paired is not None:
            return self._paired[index]
        return self._items[index]


def plain(value):
    """What JSON cannot hold, as n8n's JSON would have it: sets as lists, dates as ISO text,
    anything else as its text."""
    if isinstance(value, (set, frozenset)):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def finite(value):
    """NaN and the infinities become None, as JSON.stringify makes them null."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def compile_code(code):
    """The code as an async function `__code`, its lines numbered as the user wrote them, and
    whether it awaits (only then does it need an event loop: importing asyncio doubles the
    interpreter's start)."""
    module = ast.parse(code, CODE_FILE)
    awaits = any(
        isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith))
        or (isinstance(node, ast.comprehension) and node.is_async)
        for node in ast.walk(module)
    )
    function = ast.AsyncFunctionDef(
        name="__code",
        args=ast.arguments(
            posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
        ),
        body=module.body or [ast.Pass()],
        decorator_list=[],
        returns=None,
    )
    if "type_params" in ast.AsyncFunctionDef._fields:  # Python 3.12 and later
        function.type_params = []
    wrapper = ast.Module(body=[function], type_ignores=[])
    ast.fix_missing_locations(wrapper)
    return compile(wrapper, CODE_FILE, "exec"), awaits


def call(function, awaits):
    """Runs the code's async function to its end."""
    if awaits:
        import asyncio

        return asyncio.run(function())
    coroutine = function()
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("the code waited for something outside an event loop")


def user_line(error):
    if isinstance(error, SyntaxError) and error.filename == CODE_FILE:
        return error.lineno
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == CODE_FILE:
            line = frame.lineno
    return line


def main():
    request = json.load(sys.stdin)
    items = wrap(request["items"])
    nodes = {
        name: NodeData(wrap(data["all"]), wrap(data["paired"]))
        for name, data in request["nodes"].items()
    }
    out, logs = sys.stdout, io.StringIO()
    sys.stdout = logs
    item_index = None

    def answer(message):
        sys.stdout = out
        try:
            text = json.dumps(message, default=plain, allow_nan=False)
        except ValueError:  # a NaN or an infinity somewhere
            text = json.dumps(finite(message), default=plain)
        out.write(text)
        out.write("\n")
        out.flush()

    try:
        code, awaits = compile_code(request["code"])
        input_data = NodeData(items)

        def node(name):
            if name not in nodes:
                raise ValueError(f"Referenced node doesn't exist: {name}")
            return nodes[name]

        runs = []
        indexes = range(len(items)) if request["mode"] == "each" else [None]
        for item_index in indexes:
            scope = {
                "_input": input_data,
                "_": node,
                "_items": items,
                "_runIndex": request["runIndex"],
                "_workflow": wrap(request["workflow"]),
                "_execution": wrap(request["execution"]),
                "__name__": "__code__",
            }
            if item_index is not None:
                input_data._index = item_index
                for data in nodes.values():
                    data._index = item_index
                scope.update(_json=items[item_index].json, _item=items[item_index], _itemIndex=item_index)
            exec(code, scope)
            runs.append(call(scope["__code"], awaits))
        answer({"ok": True, "runs": runs, "logs": logs.getvalue().splitlines()})
    except BaseException as error:  # noqa: BLE001 - every failure is the node's error
        message = "".join(traceback.format_exception_only(type(error), error)).strip()
        if isinstance(error, SyntaxError):
            message = f"SyntaxError: {error.msg}"
        answer({"ok": False, "error": message, "line": user_line(error), "item": item_index})


main()

// Sluice's JavaScript prelude: the n8n Code-node environment built over one payload per node run.
// Evaluated once per QuickJS runtime, after luxon. The payload comes from Rust as an object
// (`payload.rs`); its input items are converted when first read, through `payload.inputItem(i)`.
(function () {
  "use strict";
  const { DateTime, Duration, Interval } = luxon;

  // One returned value as an item; `index` is its position for error messages.
  function toItem(value, index) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)
        && value.json !== null && typeof value.json === "object" && !Array.isArray(value.json)) {
      // Already an item; other keys are ignored when Sluice reads it back.
      return value;
    }
    if (value !== null && typeof value === "object" && "json" in value) {
      throw new Error(`A 'json' property isn't an object [item ${index}]`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new Error(`Code doesn't return items properly: please return an array of objects, one for each item you would like to output [item ${index}]`);
    }
    return { json: value };
  }

  // `$('Name')`, or with `legacy` `$node['Name']`, whose `data` is the item's JSON as `json`.
  function nodeProxy(payload, name, itemIndex, legacy) {
    const data = payload.nodes[name];
    if (data === undefined) {
      // Only nodes named literally in the code are provided.
      throw new Error(`Referenced node doesn't exist: '${name}' (node names must be written literally, as in $('Name'))`);
    }
    const notRun = () => { throw new Error(`Node '${name}' hasn't been executed`); };
    const paired = (i) => {
      const p = data.paired && data.paired[i];
      if (!p) return data.executed ? data.all[i] : notRun();
      if (p.error) throw new Error(p.error);
      return p;
    };
    const proxy = {
      get isExecuted() { return data.executed; },
      all() { return data.executed ? data.all : notRun(); },
      first() { return data.executed ? data.all[0] : notRun(); },
      last() { return data.executed ? data.all[data.all.length - 1] : notRun(); },
      get item() { return paired(itemIndex === undefined ? 0 : itemIndex); },
      itemMatching(i) { return paired(i); },
      pairedItem(i) { return paired(i === undefined ? itemIndex : i); },
      get params() { return data.params; },
      get json() { return (data.executed ? data.all[itemIndex || 0] || {} : {}).json; },
      get context() { return data.context || {}; },
    };
    if (legacy) Object.defineProperty(proxy, "data", { get() { return proxy.json; } });
    return proxy;
  }

  const blockedModules = new Set(["fs", "child_process", "net", "http", "https", "os", "process", "vm", "worker_threads"]);
  function require(name) {
    if (name === "luxon") return luxon;
    if (blockedModules.has(name)) throw new Error(`Module '${name}' is disallowed`);
    throw new Error(`Cannot find module '${name}'`);
  }

  // The input items of one run, each converted once, when first read.
  function lazyInput(payload) {
    const count = payload.itemCount;
    const converted = [];
    let all;
    const at = (i) => {
      if (!(i >= 0 && i < count)) return undefined;
      return converted[i] === undefined ? (converted[i] = payload.inputItem(i)) : converted[i];
    };
    return {
      count,
      at,
      all: () => all || (all = Array.from({ length: count }, (_, i) => at(i))),
    };
  }

  function context(payload, logs, itemIndex) {
    const input = payload.input;
    // An expression that does not read the whole input gets only its own item.
    const currentIndex = (itemIndex === undefined ? 0 : itemIndex) - payload.itemOffset;
    const current = () => input.at(currentIndex);
    const $ = (name) => nodeProxy(payload, name, itemIndex);
    const $node = () => new Proxy({}, { get: (_, name) => typeof name === "string" ? nodeProxy(payload, name, itemIndex, true) : undefined });
    const now = () => DateTime.fromISO(payload.now).setZone(payload.tz || "UTC");
    const $input = {
      all: input.all,
      first: () => input.at(0),
      last: () => input.at(input.count - 1),
      get item() { return current(); },
      get params() { return payload.params; },
    };
    // `staticData` holds `{global, node}` (this node's) when the caller passed the workflow's
    // static data; changes to these objects go back with the output.
    const $getWorkflowStaticData = (type) => {
      if (type !== "global" && type !== "node") {
        throw new Error(`The static data type '${type}' is not known; valid types are 'global' and 'node'`);
      }
      const data = payload.staticData || (payload.staticData = {});
      const value = data[type];
      if (value === null || typeof value !== "object" || Array.isArray(value)) data[type] = {};
      return data[type];
    };
    const stringify = (v) => typeof v === "string" ? v : (v === undefined ? "undefined" : JSON.stringify(v));
    const console = { log: (...a) => logs.push(a.map(stringify).join(" ")) };
    console.info = console.warn = console.error = console.debug = console.log;
    // Getters: compiled code binds only the names it uses, so unused ones cost nothing.
    return {
      $input, get items() { return input.all(); },
      get $json() { const c = current(); return c ? c.json : undefined; },
      get $binary() { const c = current(); return c ? c.binary : undefined; },
      $, get $node() { return $node(); }, $items: (name) => name === undefined ? input.all() : $(name).all(),
      $workflow: payload.workflow, $execution: payload.execution, $runIndex: payload.runIndex,
      $itemIndex: itemIndex === undefined ? 0 : itemIndex, $prevNode: payload.prevNode, $vars: payload.vars || {},
      get $env() { return new Proxy({}, { get: () => { throw new Error("access to env vars denied"); } }); },
      get $now() { return now(); }, get $today() { return now().startOf("day"); },
      $if: (c, a, b) => (c ? a : b), $ifEmpty: (v, d) => (v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && Object.keys(v).length === 0) ? d : v),
      $min: Math.min, $max: Math.max,
      DateTime, Duration, Interval, console, require, $getWorkflowStaticData,
      // The legacy Function Item node's `item` is the JSON; the Code node's is the whole item.
      get item() { const c = current(); return c && payload.itemIsJson ? c.json : c; },
    };
  }

  // "code:LINE" of the first user frame, as n8n's " [line N" suffix.
  function lineOf(e) {
    const m = e && typeof e.stack === "string" && /code:(\d+)/.exec(e.stack);
    return m ? Number(m[1]) - 1 : undefined;
  }

  // Evaluates one compiled expression chunk for item `itemIndex`; Rust reads the value, or its
  // text as `String()` renders it when the chunk sits in text (`asText`).
  globalThis.__sluiceEval = function (exprFn, payload, itemIndex, asText) {
    payload.input = lazyInput(payload);
    try {
      const value = exprFn(context(payload, [], itemIndex));
      if (!asText) return value;
      if (value === null || value === undefined || typeof value === "function") return undefined;
      return String(value);
    } finally {
      // The input's closures refer back to the payload: without this cycle the payload is freed
      // when the evaluation ends rather than at the next garbage collection.
      payload.input = undefined;
    }
  };

  // Runs the compiled user function over the payload; returns `{items, logs, staticData}`, which
  // Rust reads.
  globalThis.__sluiceRun = async function (userFn, payload, mode, continueOnFail) {
    payload.input = lazyInput(payload);
    const logs = [];
    const out = [];
    if (mode === "each") {
      for (let i = 0; i < payload.input.count; i++) {
        let result;
        try {
          result = await userFn(context(payload, logs, i));
        } catch (e) {
          if (continueOnFail) {
            // n8n's error item names the line only (`odd value 1 [line 2]`): the item is the
            // one in its place, or the input item it is paired with on the error output.
            const line = lineOf(e);
            const where = line === undefined ? "" : ` [line ${line}]`;
            out.push({ json: { error: String(e && e.message !== undefined ? e.message : e) + where }, pairedItem: { item: i } });
            continue;
          }
          if (e && typeof e === "object") e.__sluiceItem = i;
          throw e;
        }
        if (result === undefined || result === null) continue;
        if (Array.isArray(result)) {
          throw new Error(`Code doesn't return a single object: an array was returned instead. If you need to output multiple items, please use the 'Run Once for All Items' mode instead [item ${i}]`);
        }
        const item = toItem(result, i);
        if (item.pairedItem === undefined) item.pairedItem = { item: i };
        out.push(item);
      }
    } else {
      const result = await userFn(context(payload, logs));
      if (result !== undefined && result !== null) {
        (Array.isArray(result) ? result : [result]).forEach((value, i) => out.push(toItem(value, i)));
      }
    }
    return { items: out, logs, staticData: payload.staticData };
  };
})();

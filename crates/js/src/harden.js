// Sluice's sandbox hardening, evaluated once per QuickJS runtime after the prelude. One runtime
// serves every execution on its thread, so nothing one run does may reach the next:
// - the built-ins (Object, Array, JSON, Math, luxon, ...) and their prototypes are frozen, so
//   prototype pollution and replaced methods (`JSON.stringify = ...`) do not outlive the run;
//   assignments to them are ignored in sloppy code and throw in strict code;
// - the global names that exist now cannot be reassigned or deleted, and globals a run adds
//   (`leak = $json.secret` in sloppy code) are removed by `__sluiceReset` after every run.
// Freezing `Object.prototype` would make `obj.toString = f` fail on ordinary objects (the
// "override mistake"), so the few names code commonly assigns on its own objects become
// accessors that define the property on the object instead.
(function () {
  "use strict";
  const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf, freeze, isFrozen } = Object;
  const ownKeys = Reflect.ownKeys;

  const overridable = ["constructor", "toString", "valueOf", "toLocaleString", "toJSON",
    "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "name", "message"];
  function tameOverrides(proto) {
    for (const name of overridable) {
      const desc = getOwnPropertyDescriptor(proto, name);
      if (!desc || !("value" in desc) || !desc.configurable) continue;
      const value = desc.value;
      defineProperty(proto, name, {
        get() { return value; },
        set(v) {
          if (this === proto) throw new TypeError(`Cannot assign to read only property '${name}'`);
          defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: desc.enumerable,
        configurable: false,
      });
    }
  }
  tameOverrides(Object.prototype);
  tameOverrides(Function.prototype);
  for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
    tameOverrides(E.prototype);
  }

  const seen = new Set();
  function deepFreeze(value) {
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return;
    if (value === globalThis || seen.has(value)) return;
    seen.add(value);
    freeze(value);
    deepFreeze(getPrototypeOf(value));
    for (const key of ownKeys(value)) {
      const desc = getOwnPropertyDescriptor(value, key);
      if ("value" in desc) deepFreeze(desc.value);
      else { deepFreeze(desc.get); deepFreeze(desc.set); }
    }
  }
  // Prototypes reachable only through syntax, not through a global name.
  deepFreeze(getPrototypeOf(async function () {}));
  deepFreeze(getPrototypeOf(function* () {}));
  deepFreeze(getPrototypeOf(async function* () {}));
  deepFreeze(getPrototypeOf([][Symbol.iterator]()));
  deepFreeze(getPrototypeOf(""[Symbol.iterator]()));
  deepFreeze(getPrototypeOf(new Map().entries()));
  deepFreeze(getPrototypeOf(new Set().values()));
  deepFreeze(getPrototypeOf(/x/[Symbol.matchAll]("")));

  const baseline = new Set(ownKeys(globalThis));
  for (const key of baseline) {
    const desc = getOwnPropertyDescriptor(globalThis, key);
    if ("value" in desc) deepFreeze(desc.value);
    if (desc.configurable) {
      defineProperty(globalThis, key, "value" in desc
        ? { value: desc.value, writable: false, enumerable: desc.enumerable, configurable: false }
        : { get: desc.get, set: desc.set, enumerable: desc.enumerable, configurable: false });
    }
  }
  // True when every global the run added is gone (one it made undeletable is not).
  const reset = function () {
    let clean = true;
    for (const key of ownKeys(globalThis)) {
      if (!baseline.has(key)) clean = Reflect.deleteProperty(globalThis, key) && clean;
    }
    return clean;
  };
  defineProperty(globalThis, "__sluiceReset", { value: freeze(reset), writable: false, configurable: false });
  baseline.add("__sluiceReset");
  if (!isFrozen(Object.prototype)) throw new Error("the sandbox could not freeze the built-ins");
})();

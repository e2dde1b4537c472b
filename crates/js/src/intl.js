// A minimal `Intl` for QuickJS (which has none), enough for luxon: English ("en-US") names and
// numbers, and IANA time zones whose offsets come from Sluice's time-zone database
// (`__sluiceTzOffset(zone, epochMs)` in minutes, `__sluiceTzValid(zone)`).
(function () {
  "use strict";
  const offsetMinutes = (zone, ms) => (zone === "UTC" || zone === "Etc/UTC" ? 0 : __sluiceTzOffset(zone, ms));
  function fieldsAt(ms, zone) {
    const d = new Date(ms + offsetMinutes(zone, ms) * 60000);
    return {
      year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
      hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), weekday: d.getUTCDay(),
    };
  }
  const pad = (n) => String(n).padStart(2, "0");
  class DateTimeFormat {
    constructor(locale, options) {
      this.options = Object.assign({}, options || {});
      this.zone = this.options.timeZone || "UTC";
      if (!__sluiceTzValid(this.zone)) throw new RangeError("Invalid time zone specified: " + this.zone);
    }
    resolvedOptions() {
      return { locale: "en-US", calendar: "gregory", numberingSystem: "latn", timeZone: this.zone, hourCycle: "h23" };
    }
    formatToParts(date) {
      const f = fieldsAt(date === undefined ? Date.now() : +date, this.zone);
      const lit = (value) => ({ type: "literal", value });
      return [
        { type: "month", value: String(f.month) }, lit("/"), { type: "day", value: String(f.day) }, lit("/"),
        { type: "year", value: String(Math.abs(f.year)) }, lit(" "), { type: "era", value: f.year > 0 ? "AD" : "BC" }, lit(", "),
        { type: "hour", value: pad(f.hour) }, lit(":"), { type: "minute", value: pad(f.minute) }, lit(":"),
        { type: "second", value: pad(f.second) },
      ];
    }
    format(date) {
      const f = fieldsAt(date === undefined ? Date.now() : +date, this.zone);
      return `${f.month}/${f.day}/${f.year}, ${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`;
    }
    static supportedLocalesOf(locales) { return [].concat(locales || []).filter((l) => /^en/i.test(l)); }
  }
  class NumberFormat {
    constructor(locale, options) { this.options = Object.assign({ useGrouping: true }, options || {}); }
    format(n) {
      const o = this.options;
      let text = o.maximumFractionDigits !== undefined ? Number(n).toFixed(o.maximumFractionDigits) : String(n);
      if (o.minimumIntegerDigits) {
        const [int, frac] = text.replace("-", "").split(".");
        text = (n < 0 ? "-" : "") + int.padStart(o.minimumIntegerDigits, "0") + (frac !== undefined ? "." + frac : "");
      }
      if (o.useGrouping) text = text.replace(/^(-?\d+)/, (m) => m.replace(/\B(?=(\d{3})+(?!\d))/g, ","));
      return text;
    }
    resolvedOptions() { return Object.assign({ locale: "en-US", numberingSystem: "latn" }, this.options); }
  }
  globalThis.Intl = { DateTimeFormat, NumberFormat, getCanonicalLocales: (l) => [].concat(l || []) };
})();

// Time on the Usage page: zones by their IANA names, and the periods of a range keyed as
// the API keys them (hours as instants, days/weeks/months as the zone's dates).
"use strict";
(function () {
  const DAY = 86400000;
  const HOUR = 3600000;
  const formatters = new Map();
  // Chromium names some zones by their old CLDR ids; the API, the database and people use the
  // IANA ones. Each old id -> the IANA name it is an alias of (tzdata's "backward" file).
  const ALIASES = {
    "Asia/Calcutta": "Asia/Kolkata", "Asia/Katmandu": "Asia/Kathmandu", "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Rangoon": "Asia/Yangon", "Asia/Ulan_Bator": "Asia/Ulaanbaatar", "Asia/Dacca": "Asia/Dhaka",
    "Asia/Thimbu": "Asia/Thimphu", "Asia/Macao": "Asia/Macau", "Asia/Ujung_Pandang": "Asia/Makassar",
    "Europe/Kiev": "Europe/Kyiv", "Europe/Uzhgorod": "Europe/Kyiv", "Europe/Zaporozhye": "Europe/Kyiv",
    "Atlantic/Faeroe": "Atlantic/Faroe", "America/Godthab": "America/Nuuk", "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei", "Pacific/Enderbury": "Pacific/Kanton", "Africa/Asmera": "Africa/Asmara",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires", "America/Catamarca": "America/Argentina/Catamarca",
    "America/Cordoba": "America/Argentina/Cordoba", "America/Jujuy": "America/Argentina/Jujuy",
    "America/Mendoza": "America/Argentina/Mendoza", "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Louisville": "America/Kentucky/Louisville", "America/Coral_Harbour": "America/Atikokan",
    "Etc/UTC": "UTC", "Etc/GMT": "UTC", "Etc/UCT": "UTC", "Etc/Universal": "UTC", "Etc/Zulu": "UTC", GMT: "UTC", UCT: "UTC",
  };
  const canonical = (tz) => ALIASES[tz] || tz;
  function browserZone() { return canonical(Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"); }

  // Local wall-clock parts of the instant t in the IANA zone tz.
  function parts(t, tz) {
    if (!formatters.has(tz)) {
      formatters.set(tz, new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric",
        month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }));
    }
    const p = Object.fromEntries(formatters.get(tz).formatToParts(t).map((x) => [x.type, x.value]));
    return { y: +p.year, m: +p.month, d: +p.day, h: +p.hour % 24, min: +p.minute };
  }

  // The API's key of the hour starting at t: "…T05:00:00+05:30" in a zone, "…T05:00:00Z" in UTC.
  function hourKey(t, tz) {
    if (tz === "UTC") return new Date(t).toISOString().slice(0, 13) + ":00:00Z";
    const p = parts(t, tz), minutes = Math.round((Date.UTC(p.y, p.m - 1, p.d, p.h, p.min) - (t - (t % 60000))) / 60000);
    const pad = (n) => String(n).padStart(2, "0");
    const sign = minutes < 0 ? "-" : "+", off = Math.abs(minutes);
    return `${p.y}-${pad(p.m)}-${pad(p.d)}T${pad(p.h)}:${pad(p.min)}:00${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
  }

  // Every period of [from, to) at granularity `by` in zone tz, keyed as the API keys them.
  // Hours are instants an hour apart; days, weeks (Monday) and months are the zone's dates.
  function periods(from, to, by, tz) {
    const out = [], start = Date.parse(from), end = Date.parse(to);
    if (by === "hour") {
      for (let t = start; t < end; t += HOUR) out.push(hourKey(t, tz));
      return out;
    }
    const a = parts(start, tz), b = parts(end - 1, tz);
    const last = Date.UTC(b.y, b.m - 1, b.d);
    for (let t = floorDate(Date.UTC(a.y, a.m - 1, a.d), by); t <= last; t = nextDate(t, by)) {
      out.push(new Date(t).toISOString().slice(0, 10));
    }
    return out;
  }

  function floorDate(day, by) {
    const d = new Date(day);
    if (by === "week") return day - ((d.getUTCDay() + 6) % 7) * DAY;
    if (by === "month") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    return day;
  }

  function nextDate(day, by) {
    if (by === "day") return day + DAY;
    if (by === "week") return day + 7 * DAY;
    const d = new Date(day);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }

  window.UsagePeriods = { canonical, browserZone, hourKey, periods };
})();
